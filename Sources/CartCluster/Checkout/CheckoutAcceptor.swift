/// One replica's durable Paxos acceptor state for one checkout id (single-decree Paxos, as
/// Cassandra's lightweight transactions): the highest ballot it promised, the value it last
/// accepted, and the decided order once a proposer committed it. `CheckoutStore` keeps it
/// durable before any vote leaves the node.
///
/// Invariants (`checkInvariants`): an accepted ballot is at most the promised ballot; once
/// `committed` is set it never changes (a commit of a different order is refused: Paxos chooses
/// one value, so a different one means a broken peer, and the first stays).
///
/// Thread safety: a `Sendable` value type.
public struct CheckoutAcceptor: Hashable, Sendable {
    public internal(set) var promised: Ballot = .zero
    public internal(set) var accepted: AcceptedProposal?
    public internal(set) var committed: Order?

    public init() {}

    init(promised: Ballot, accepted: AcceptedProposal?, committed: Order?) {
        self.promised = promised
        self.accepted = accepted
        self.committed = committed
    }

    /// Phase 1: promise `ballot` if it is above every ballot promised so far.
    public mutating func prepare(_ ballot: Ballot) -> CheckoutVote {
        if let committed { return .decided(committed) }
        guard ballot > promised else { return .refused(promised: promised) }
        promised = ballot
        return .granted(accepted: accepted)
    }

    /// Phase 2: accept `order` under `ballot` unless a higher ballot was promised.
    public mutating func accept(_ order: Order, ballot: Ballot) -> CheckoutVote {
        if let committed { return .decided(committed) }
        guard ballot >= promised else { return .refused(promised: promised) }
        promised = ballot
        accepted = AcceptedProposal(ballot: ballot, order: order)
        return .granted(accepted: nil)
    }

    /// The decision: `order` is chosen. False (and nothing changes) if a different order was
    /// committed before.
    public mutating func commit(_ order: Order) -> Bool {
        if let committed { return committed == order }
        committed = order
        return true
    }

    /// A description of the first broken invariant, or nil.
    public func checkInvariants() -> String? {
        if let accepted, accepted.ballot > promised {
            return "accepted ballot \(accepted.ballot) above promised \(promised)"
        }
        return nil
    }
}
