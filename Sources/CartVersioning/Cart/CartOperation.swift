/// A client operation on a cart, applied at one replica by `CartState.apply`.
///
/// Every operation that is relative to what the client saw (remove, clear, set quantity) uses
/// the causal context the client read (`observed`), or the replica's whole state if none.
///
/// JSON (for the HTTP API), discriminated by `"op"`:
/// `{"op":"add","sku":"A1","quantity":2,"name":"Mug","priceMinor":1299,"metadata":{"color":"red"}}`,
/// `{"op":"changeQuantity","sku":"A1","delta":-1}`, `{"op":"setQuantity","sku":"A1","quantity":3}`,
/// `{"op":"updateDetails","sku":"A1","name":"Big mug"}`, `{"op":"remove","sku":"A1"}`, `{"op":"clear"}`.
///
/// Thread safety: a `Sendable` value type.
public enum CartOperation: Hashable, Sendable {
    /// Adds `quantity` (>= 1) units: concurrent adds sum. Sets the given detail fields.
    case add(sku: String, quantity: Int64, details: CartItemDetails)
    /// Changes the quantity of a shown item by `delta` (non-zero); reaching 0 or less removes it.
    case changeQuantity(sku: String, delta: Int64)
    /// Sets the quantity to `quantity`, as a change relative to what the client observed; 0 removes.
    case setQuantity(sku: String, quantity: Int64)
    /// Sets detail fields of a visible item.
    case updateDetails(sku: String, details: CartItemDetails)
    /// Removes the item: exactly the contributions and fields the client observed.
    case remove(sku: String)
    /// Removes every item the client observed.
    case clear

    /// The SKU the operation targets, nil for `clear`.
    public var sku: String? {
        switch self {
        case let .add(sku, _, _), let .changeQuantity(sku, _), let .setQuantity(sku, _),
             let .updateDetails(sku, _), let .remove(sku):
            return sku
        case .clear:
            return nil
        }
    }
}
