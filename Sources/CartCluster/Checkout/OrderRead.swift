/// A read of a checkout's decided order (`ClientRequest.Operation.readOrder`): every acceptor is
/// asked; the first decided order found is the answer. None found: not found once every
/// acceptor answered without one; unavailable if one failed or stayed silent past the replica
/// timeout (an acceptor whose disk was replaced answers without the order, so one answer
/// alone proves nothing).
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
