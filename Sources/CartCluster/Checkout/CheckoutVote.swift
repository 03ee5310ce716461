/// An acceptor's answer to a checkout's prepare or accept (`ClusterMessage.checkoutVote`).
///
/// Thread safety: a `Sendable` value type.
public enum CheckoutVote: Hashable, Sendable {
    /// Promised (prepare) or accepted (accept) the ballot, durably. A promise carries the
    /// highest-ballot value this acceptor accepted before, if any; an accept carries nil.
    case granted(accepted: AcceptedProposal?)
    /// Refused: it has promised `promised`, a higher ballot (a lower or equal one for a prepare).
    case refused(promised: Ballot)
    /// This id's order is already decided: here it is.
    case decided(Order)
    /// Its storage failed; the vote's outcome is unknown (the promise may be durable).
    case failed
}
