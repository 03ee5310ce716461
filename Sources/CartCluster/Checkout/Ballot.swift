/// A Paxos proposal number for one checkout: `(round, node)` ordered by round then node, so two
/// proposers never use the same ballot. `zero` is below every ballot a proposer uses (rounds
/// start at 1).
///
/// Thread safety: a `Sendable` value type.
public struct Ballot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let round: UInt64
    public let node: NodeID

    public static let zero = Ballot(round: 0, node: NodeID(0))

    public init(round: UInt64, node: NodeID) {
        self.round = round
        self.node = node
    }

    public static func < (lhs: Ballot, rhs: Ballot) -> Bool {
        (lhs.round, lhs.node.value) < (rhs.round, rhs.node.value)
    }

    public var description: String { "\(round).\(node)" }
}
