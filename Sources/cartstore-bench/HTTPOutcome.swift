/// What a completed request counts as in `cartstore-bench http`'s report: one row each. Errors
/// are counted apart, by kind (see `HTTPLoadStats.errors`).
enum HTTPOutcome: Int, CaseIterable, Sendable {
    /// A 2xx answer to an add.
    case add
    /// A 2xx answer to a get.
    case get
    /// A 2xx answer to a remove.
    case remove
    /// A remove answered 404 `item_not_found`: the cart did not hold the SKU. Expected with a
    /// random SKU, so not an error.
    case removeMissing

    /// The row's name in the report (text and JSON).
    var name: String {
        switch self {
        case .add: return "add"
        case .get: return "get"
        case .remove: return "remove"
        case .removeMissing: return "remove_missing"
        }
    }
}
