import CartVersioning

/// One checkout a node coordinates, as a Paxos proposer (`ClusterNode+Checkout`), from intake
/// to its one answer.
///
/// Lifecycle (`stage`): `preparing` (phase 1: every acceptor's promise) → `readingCart` (the
/// cart from all N of its replicas, only when no acceptor reported a value) → `accepting`
/// (phase 2: every acceptor's acceptance) → `committing` (every acceptor stores the decision)
/// → `clearing` (the ordered units leave the cart, W = N) → answered. A refusal in phase 1 or 2
/// goes to `backingOff`, then back to `preparing` with a higher ballot. An acceptor that fails
/// or stays silent past the replica timeout ends the checkout as unavailable; its deadline ends
/// it in any stage. Each phase has its own id (`phaseID`): a vote or a step's reply under
/// another phase's id is stale and ignored.
struct CheckoutProposal: Sendable {
    enum Stage: Sendable {
        /// Acceptors that promised → the value each accepted before, if any.
        case preparing(promises: [NodeID: AcceptedProposal?])
        case readingCart
        case accepting(Order, accepted: Set<NodeID>, replayed: Bool)
        case committing(Order, stored: Set<NodeID>, replayed: Bool)
        case clearing(Order, replayed: Bool)
        case backingOff
    }

    let origin: InFlightRequest.Origin
    let checkout: CheckoutID
    /// The cart the client asked to check out (the decided order may name another: then the id
    /// is in use).
    let cartKey: [UInt8]
    /// The replicas of `checkout.orderKey`: every one must vote, in every phase.
    let acceptors: [NodeID]
    /// Replicas of the cart: its read and its clear need all of them.
    let cartN: Int
    let deadlineMs: UInt64
    var ballot: Ballot = .zero
    /// The highest round seen in any ballot (own or refused by), so the next ballot is above it.
    var highestRound: UInt64 = 0
    /// Phase 1 attempts so far.
    var attempts = 0
    var phaseID: UInt64 = 0
    /// The order this checkout built from its own cart read, if it got that far: the answer is
    /// `replayed` unless the decided order is this one.
    var built: Order?
    /// A cart read found the cart empty: the next phase 1 that reports no value answers
    /// `emptyCart` (a concurrent attempt with the same id may have cleared it: phase 1 again
    /// finds its order).
    var cartSeenEmpty = false
    /// Bumped with every phase, so that an older phase's replica timeout is ignored.
    var round = 0
    var stage: Stage = .backingOff
}
