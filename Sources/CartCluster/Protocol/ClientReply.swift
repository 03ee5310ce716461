import CartVersioning

/// The one answer a client gets for a `ClientRequest`.
///
/// Thread safety: a `Sendable` value type.
public enum ClientReply: Hashable, Sendable, CustomStringConvertible {
    /// A read found the key: the join of the answering replicas' records. A deleted opaque key
    /// is found with only tombstones (`SiblingSet.readsAsDeleted`); its context still matters.
    case found(StoredRecord)
    /// A read found nothing on any answering replica.
    case notFound
    /// A mutation was applied under `dot` (or, for a retried cart operation, had already been
    /// applied under it: `duplicate`) and acknowledged durably by `acks` replicas (at least W).
    /// `record` is the coordinator's state after it: its context is what the client sends next.
    case written(record: StoredRecord, dot: Dot, duplicate: Bool, acks: Int)
    /// The request is invalid or the operation was refused; nothing changed anywhere. A client
    /// mistake (HTTP 4xx).
    case rejected(RequestRejection)
    /// Not enough replicas answered in time. A mutation may still have been applied at some
    /// replicas (its outcome is unknown); retry with the same operation id.
    case unavailable(QuorumError)
    /// The coordinator's own storage failed; the outcome of a mutation is unknown.
    case storageFailed(String)
    /// A checkout is done: `order` is decided on all N of its acceptors and its items are
    /// cleared from the cart on all N replicas. `replayed` if the order was decided by an
    /// earlier attempt with the same id (this attempt built no order of its own).
    case checkedOut(Order, replayed: Bool)
    /// A `readOrder` found the decided order.
    case order(Order)

    public var description: String {
        switch self {
        case .found: return "found"
        case .notFound: return "not found"
        case let .written(_, dot, duplicate, acks): return "written \(dot)\(duplicate ? " (duplicate)" : "") acks \(acks)"
        case let .rejected(rejection): return "rejected: \(rejection)"
        case let .unavailable(error): return "unavailable: \(error)"
        case let .storageFailed(detail): return "storage failed: \(detail)"
        case let .checkedOut(order, replayed): return "checked out \(order.checkoutID)\(replayed ? " (replayed)" : "")"
        case let .order(order): return "order \(order.checkoutID)"
        }
    }
}
