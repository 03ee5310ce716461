/// A physical node of the cluster: the `node` part of the versioning layer's `ReplicaID`, stable
/// across restarts (the epoch changes, the node id does not).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.value < rhs.value }

    public var description: String { "n\(value)" }
}
