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
}
