/// Why a cart operation was refused. A refused operation changes nothing; every case is a
/// client error (4xx) except `observedContextNotCovered`, which tells the coordinator to merge
/// the replicas' states it read before applying (or to answer 409 and let the client re-read).
///
/// Thread safety: a `Sendable` value type.
public enum CartOperationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The SKU is empty, too long, or the cart already holds the most items allowed.
    case invalidSKU(String, reason: String)
    /// A quantity or delta is zero where not allowed, negative, or beyond the per-operation cap.
    case invalidQuantity(Int64, reason: String)
    /// A name, price or metadata field breaks a limit.
    case invalidDetails(String)
    /// The operation needs a visible item and there is none.
    case itemNotFound(sku: String)
    /// Adding a new SKU would pass `cartItemsPerOperationMax`.
    case cartFull(itemsMax: Int)
    /// The client's causal context names events this replica has not seen.
    case observedContextNotCovered
    /// This replica would add a clock entry past `clockEntriesMax`.
    case tooManyReplicas(max: Int)
    /// This replica's event counter reached `counterMax`.
    case counterExhausted(ReplicaID)

    /// Human-readable reason.
    public var description: String {
        switch self {
        case let .invalidSKU(sku, reason): return "invalid SKU \"\(sku)\": \(reason)"
        case let .invalidQuantity(quantity, reason): return "invalid quantity \(quantity): \(reason)"
        case let .invalidDetails(reason): return "invalid item details: \(reason)"
        case let .itemNotFound(sku): return "no item \"\(sku)\" in the cart"
        case let .cartFull(itemsMax): return "the cart already holds \(itemsMax) items"
        case .observedContextNotCovered: return "the causal context names writes this replica has not seen"
        case let .tooManyReplicas(max): return "the cart's clock would name more than \(max) replicas"
        case let .counterExhausted(replica): return "replica \(replica) exhausted its event counter"
        }
    }
}
