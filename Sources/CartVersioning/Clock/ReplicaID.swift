/// The identity of a replica that coordinates writes: a node id plus an epoch.
///
/// Invariants: one `(node, epoch)` pair hands out each dot counter at most once, ever.
/// A node that starts on an empty or restored data directory must take an epoch it has never
/// used before, so it never reissues counters it handed out before it lost its data (the lesson
/// of Riak's "kv679", where a node that lost its data reused old counters and a stale tombstone
/// won). Choosing the epoch is the cluster layer's job (for example one more than the highest
/// epoch of this node that gossip or the restored directory has seen, persisted with fsync
/// before the first write).
///
/// Clocks are keyed by the replica that *coordinated* a write, never by the client, so the
/// number of entries is bounded by the (node, epoch) pairs that served a key, not by devices.
///
/// Thread safety: a `Sendable` value type; use it from anywhere.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Stable 64-bit id of the node, assigned by the cluster layer.
    public var node: UInt64
    /// Epoch of the node's data directory; a new one whenever the node starts without its data.
    public var epoch: UInt32

    /// Creates a replica id.
    public init(node: UInt64, epoch: UInt32) {
        self.node = node
        self.epoch = epoch
    }

    /// Orders by node, then epoch. Encodings and tie breaks rely on this order: never change it.
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool {
        (lhs.node, lhs.epoch) < (rhs.node, rhs.epoch)
    }

    /// `node.epoch`, for logs.
    public var description: String { "\(node).\(epoch)" }
}
