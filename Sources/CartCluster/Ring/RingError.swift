/// Why a ring cannot be built or changed as asked. Ring configurations come from operators and
/// from peers, so they are checked, never trapped on.
public enum RingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `partitionBits` outside `Ring.partitionBitsRange`.
    case partitionBitsOutOfRange(Int)
    /// `targetN` outside `Ring.targetNRange`.
    case invalidTargetN(Int)
    /// A ring needs at least one node.
    case noNodes
    /// A node list named this node twice.
    case duplicateNode(NodeID)
    /// More nodes than partitions: some node would own nothing.
    case tooManyNodes(nodes: Int, partitions: Int)
    /// The node joining is already a member.
    case alreadyMember(NodeID)
    /// The node leaving is not a member.
    case notMember(NodeID)
    /// The last node cannot leave.
    case lastNode(NodeID)

    public var description: String {
        switch self {
        case let .partitionBitsOutOfRange(bits):
            return "partition bits \(bits) outside \(Ring.partitionBitsRange) (2^bits partitions)"
        case let .invalidTargetN(n): return "target n \(n) outside \(Ring.targetNRange)"
        case .noNodes: return "a ring needs at least one node"
        case let .duplicateNode(node): return "node \(node) is listed twice"
        case let .tooManyNodes(nodes, partitions):
            return "\(nodes) nodes for \(partitions) partitions: every node must own at least one (raise partition bits)"
        case let .alreadyMember(node): return "node \(node) is already in the ring"
        case let .notMember(node): return "node \(node) is not in the ring"
        case let .lastNode(node): return "node \(node) is the last one and cannot leave"
        }
    }
}
