import CartVersioning

/// What nodes say to each other on the request path. Every request carries an id chosen by
/// its sender (unique per sender for the sender's lifetime: a counter seeded from the node's
/// start time) and is answered, if at all, with the same id; a reply whose id the receiver no
/// longer waits for is ignored (the network delays and duplicates).
///
/// The server's transport encodes these (`ClusterMessageCodec`, data-format.md "Internode
/// messages"); the simulator passes them as values.
public enum ClusterMessage: Hashable, Sendable {
    /// Coordinator → replica: send me your record of `key`.
    case read(id: UInt64, key: [UInt8])
    /// Replica → coordinator: my record (nil: none), or `ok == false` if my storage failed.
    case readReply(id: UInt64, record: StoredRecord?, ok: Bool)
    /// Coordinator → replica (or fallback): store the join of `record` with yours, durably.
    /// `hintFor` names the intended owner when the receiver is a fallback (sloppy quorum): the
    /// receiver keeps it as a hint for that node instead of as its own replica.
    case write(id: UInt64, key: [UInt8], record: StoredRecord, hintFor: NodeID?)
    /// Replica → coordinator: `ok` if the write is durable.
    case writeReply(id: UInt64, ok: Bool)
    /// Any node → the key's coordinator: coordinate this client request for me.
    case forward(id: UInt64, request: ClientRequest)
    /// Coordinator → forwarding node: I took the request (sent at once, so that the forwarding
    /// node can try another replica if none answers within the replica timeout).
    case forwardAccepted(id: UInt64)
    /// Coordinator → forwarding node: the request's reply.
    case forwardReply(id: UInt64, reply: ClientReply)
    /// Coordinator → stale replica, after a read (read repair): store the join; no reply.
    case repair(key: [UInt8], record: StoredRecord)

    // MARK: Anti-entropy (`ClusterNode+AntiEntropy`): an initiator descends its Merkle tree of a
    // partition against a replica's, from the root to the leaves that differ, then the two
    // exchange the records of the keys that differ (as `repair`).

    /// Initiator → replica: my tree's hashes of `partition` at `level` (0 is the root) for the
    /// nodes `indices` (ascending, distinct; `hashes` in the same order).
    case treeHashes(id: UInt64, partition: Int, level: Int, indices: [Int], hashes: [UInt64])
    /// Replica → initiator: the indices whose hashes differ from mine (ascending), or
    /// `ready == false` (and none) if my tree of that partition is not built yet.
    case treeHashesReply(id: UInt64, ready: Bool, differing: [Int])
    /// Initiator → replica: the digest of every key I hold in the leaves `leaves` (ascending
    /// leaf indices within the partition) of `partition`, ordered by stored key.
    case treeKeys(id: UInt64, partition: Int, leaves: [Int], digests: [KeyDigest])
    /// Replica → initiator: send me your records of these keys (as `repair`). The replica has
    /// already sent the initiator its records of the keys the initiator lacks or holds
    /// differently.
    case treeKeysReply(id: UInt64, wanted: [[UInt8]])

    // MARK: Gossip (`ClusterNode+Gossip`)

    /// A member's whole view (push).
    case gossip(records: [MemberRecord])
    /// The receiver's records newer than the pushed view's (pull).
    case gossipReply(records: [MemberRecord])

    // MARK: Checkout (`ClusterNode+Checkout`): single-decree Paxos per checkout id among the N
    // replicas of its order key (`CheckoutID.orderKey`), which are its acceptors.

    /// Proposer → acceptor: promise `ballot` for `checkout` (phase 1a). Answered by `checkoutVote`.
    case checkoutPrepare(id: UInt64, checkout: CheckoutID, ballot: Ballot)
    /// Proposer → acceptor: accept `order` under `ballot` (phase 2a). Answered by `checkoutVote`.
    case checkoutAccept(id: UInt64, ballot: Ballot, order: Order)
    /// Acceptor → proposer: its vote on a prepare or accept, made durable before it was sent.
    case checkoutVote(id: UInt64, vote: CheckoutVote)
    /// Proposer → acceptor: `order` is chosen for its checkout id; store it as decided.
    case checkoutCommit(id: UInt64, order: Order)
    /// Acceptor → proposer: `ok` if the decision is durable (false: storage failed, or a
    /// different order was decided before, which Paxos rules out).
    case checkoutCommitted(id: UInt64, ok: Bool)
    /// Any node → acceptor: your decided order for `checkout`, if any.
    case orderRead(id: UInt64, checkout: CheckoutID)
    /// Acceptor → reader: the decided order (nil: none decided here), or `ok == false` if its
    /// storage failed.
    case orderReadReply(id: UInt64, ok: Bool, order: Order?)
}
