/// A read of a checkout's decided order (`ClientRequest.Operation.readOrder`): every acceptor is
/// asked; the first decided order found is the answer. None found: not found once every
/// acceptor answered, or at the replica timeout if at least one did (an acknowledged checkout
/// is decided on every acceptor, so one that answers without it proves it unacknowledged);
/// unavailable if none answered.
struct OrderRead: Sendable {
    let origin: InFlightRequest.Origin
    let acceptors: [NodeID]
    let deadlineMs: UInt64
    var answered: Set<NodeID> = []
    var failed: Set<NodeID> = []
}
