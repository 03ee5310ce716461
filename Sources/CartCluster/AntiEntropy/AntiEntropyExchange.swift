/// An anti-entropy exchange a node started: which partition, with which replica, how far down
/// the tree it got, and when it began (it is forgotten `antiEntropyTimeoutMs` later).
///
/// Thread safety: a `Sendable` value type.
struct AntiEntropyExchange: Hashable, Sendable {
    enum Stage: Hashable, Sendable {
        /// Hashes of `level` sent; waiting for the differing ones.
        case descending(level: Int)
        /// Leaf digests sent; waiting for the keys the peer wants.
        case keys
    }

    let partition: Int
    let peer: NodeID
    var stage: Stage
    let startedMs: UInt64
}
