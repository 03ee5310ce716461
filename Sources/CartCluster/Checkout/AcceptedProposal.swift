/// A value an acceptor accepted, with the ballot it was accepted under.
///
/// Thread safety: a `Sendable` value type.
public struct AcceptedProposal: Hashable, Sendable {
    public let ballot: Ballot
    public let order: Order

    public init(ballot: Ballot, order: Order) {
        self.ballot = ballot
        self.order = order
    }
}
