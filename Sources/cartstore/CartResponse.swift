/// The body of `GET /v1/carts/{user}` and of every cart mutation: the cart's items and the
/// causal context to send with the next change.
struct CartResponse: Decodable, Sendable {
    /// One line of the cart.
    struct Item: Decodable, Sendable {
        var sku: String
        var quantity: Int
        var name: String?
        var priceMinor: Int?
        var metadata: [String: JSONValue]?
        var addedAtMs: UInt64?
        var updatedAtMs: UInt64?
    }

    var user: String?
    var items: [Item]
    var context: String?
}
