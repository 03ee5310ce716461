/// Why a cart operation was refused. A refused operation changes nothing. Client errors (4xx):
/// `invalidSKU`, `invalidQuantity`, `invalidDetails`, `invalidOperationID`, `itemNotFound`,
/// `cartFull`, `cartTooLarge`; `staleContext` and `observedContextNotCovered` are conflicts (409:
/// the client re-reads, or the coordinator merges more replicas first); `tooManyRecentOperations`
/// is a rate limit (429); `missingOwnWrites`,
/// `tooManyReplicas` and `counterExhausted` are the coordinator's to handle (merge its local
/// record, or start a new epoch).
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
    /// The cart would encode to more than `cartBytesPerOperationMax` bytes.
    case cartTooLarge(bytesMax: Int)
    /// The operation id is empty or too long.
    case invalidOperationID(reason: String)
    /// The client's context observed part of an item's history older than the cart remembers,
    /// so what it removes cannot be told exactly: the client must read the cart again.
    case staleContext(reason: String)
    /// The state has not seen writes this replica issued for the cart (up to `issued`; it has
    /// seen up to `seen`): the coordinator must merge its durable local record first, or it
    /// would reissue their counters.
    case missingOwnWrites(replica: ReplicaID, seen: UInt64, issued: UInt64)
    /// The client's causal context names events this replica has not seen.
    case observedContextNotCovered
    /// This replica would add a clock entry past `clockEntriesMax`.
    case tooManyReplicas(max: Int)
    /// This replica's event counter reached `counterMax`.
    case counterExhausted(ReplicaID)
    /// The cart remembers `max` operation ids that no compaction has yet been able to forget:
    /// more operations than the cluster lets one cart take between two anti-entropy rounds (429:
    /// retry later).
    case tooManyRecentOperations(max: Int)

    /// Human-readable reason.
    public var description: String {
        switch self {
        case let .invalidSKU(sku, reason): return "invalid SKU \"\(sku)\": \(reason)"
        case let .invalidQuantity(quantity, reason): return "invalid quantity \(quantity): \(reason)"
        case let .invalidDetails(reason): return "invalid item details: \(reason)"
        case let .itemNotFound(sku): return "no item \"\(sku)\" in the cart"
        case let .cartFull(itemsMax): return "the cart already holds \(itemsMax) items"
        case let .cartTooLarge(bytesMax): return "the cart would take more than \(bytesMax) bytes"
        case let .invalidOperationID(reason): return "invalid operation id: \(reason)"
        case let .staleContext(reason): return "stale context, read the cart again: \(reason)"
        case let .missingOwnWrites(replica, seen, issued):
            return "the state has seen writes of \(replica) up to \(seen), but it issued up to \(issued): merge its local record first"
        case .observedContextNotCovered: return "the causal context names writes this replica has not seen"
        case let .tooManyReplicas(max): return "the cart's clock would name more than \(max) replicas"
        case let .counterExhausted(replica): return "replica \(replica) exhausted its event counter"
        case let .tooManyRecentOperations(max):
            return "the cart has taken \(max) operations since its replicas last agreed: retry later"
        }
    }
}
