/// An operation of `cartstore-bench http`'s mix (`--mix add=50,get=40,remove=10`).
enum HTTPOperation: String, CaseIterable, Sendable {
    /// `POST /v1/carts/{user}/items` of one unit of a random SKU of the user's SKU space, with
    /// an `Idempotency-Key` unique to the operation.
    case add
    /// `GET /v1/carts/{user}`.
    case get
    /// `DELETE /v1/carts/{user}/items/{sku}` of a random SKU of the user's SKU space (404
    /// `item_not_found` is expected and counted as `remove_missing`).
    case remove

    /// The outcome a 2xx answer to this operation counts as.
    var success: HTTPOutcome {
        switch self {
        case .add: return .add
        case .get: return .get
        case .remove: return .remove
        }
    }
}
