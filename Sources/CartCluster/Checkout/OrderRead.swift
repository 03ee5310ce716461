/// A read of a checkout's decided order (`ClientRequest.Operation.readOrder`): every acceptor is
/// asked; the first decided order found is the answer. None found: not found once every
/// acceptor answered, or at the replica timeout if at least one did (an acknowledged checkout
/// is decided on every acceptor, so one that answers without it proves it unacknowledged);
/// unavailable if none answered.
///
/// Once it found an order, the read keeps listening (until every acceptor answered or the
/// replica timeout) and then sends the decision to the acceptors that answered without it
/// (order read repair: an acceptor whose disk was replaced, or one a lost commit missed).
struct OrderRead: Sendable {
    let origin: InFlightRequest.Origin
    let acceptors: [NodeID]
    let deadlineMs: UInt64
    var answered: Set<NodeID> = []
    var failed: Set<NodeID> = []
    /// The decided order, once an acceptor reported it (the client has its answer).
    var found: Order?
    /// Acceptors that answered without a decided order.
    var lacking: Set<NodeID> = []
}
