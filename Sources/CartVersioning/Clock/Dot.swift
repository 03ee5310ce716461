/// One event: the `counter`-th write coordinated by `replica`.
///
/// Invariants: `counter >= 1`; a dot names exactly one write, and what that write stored under
/// the dot never changes, so two states holding the same dot hold the same payload.
///
/// Thread safety: a `Sendable` value type.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that coordinated the write.
    public var replica: ReplicaID
    /// The replica's event number, starting at 1.
    public var counter: UInt64

    /// Creates a dot.
    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    /// Orders by replica, then counter. Encodings rely on this order: never change it.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        (lhs.replica, lhs.counter) < (rhs.replica, rhs.counter)
    }

    /// `node.epoch:counter`, for logs.
    public var description: String { "\(replica):\(counter)" }
}
