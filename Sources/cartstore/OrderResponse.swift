/// The body of `POST /v1/carts/{user}/checkout` and `GET /v1/orders/{id}`: one decided order.
struct OrderResponse: Decodable, Sendable {
    /// The checkout id (the `Idempotency-Key` that created the order).
    var id: String
    /// The user whose cart was checked out.
    var user: String?
    /// The ordered items, rendered as cart lines.
    var items: [CartResponse.Item]
    /// Sum of quantity × unit price, in minor currency units.
    var totalMinor: Int64?
    /// When the coordinator built the order, in ms since the Unix epoch.
    var createdAtMs: UInt64?
    /// The node that built the order (`n<id>`).
    var coordinator: String?
}
