/// One line of the user-visible cart, as the HTTP API renders it.
///
/// JSON (keys sorted by the API's encoder): `{"addedAtMs":…,"metadata":{…},"name":"…",
/// "priceMinor":1299,"quantity":2,"sku":"…","updatedAtMs":…}`. See data-format.md ("Record codec").
///
/// Thread safety: a `Sendable` value type.
public struct CartItem: Hashable, Sendable, Codable {
    /// Stock-keeping unit: the item's key in the cart.
    public var sku: String
    /// Units in the cart; always at least 1 in a rendered cart.
    public var quantity: Int64
    /// Display name (LWW); empty if never set.
    public var name: String
    /// Unit price in minor units (cents) (LWW); 0 if never set.
    public var priceMinor: Int64
    /// Free-form string metadata (LWW, whole map).
    public var metadata: [String: String]
    /// When this incarnation of the item was first added, in ms since the Unix epoch.
    public var addedAtMs: UInt64
    /// When any field of the item last changed, in ms since the Unix epoch.
    public var updatedAtMs: UInt64

    /// Creates an item.
    public init(sku: String, quantity: Int64, name: String, priceMinor: Int64, metadata: [String: String],
                addedAtMs: UInt64, updatedAtMs: UInt64) {
        self.sku = sku
        self.quantity = quantity
        self.name = name
        self.priceMinor = priceMinor
        self.metadata = metadata
        self.addedAtMs = addedAtMs
        self.updatedAtMs = updatedAtMs
    }
}
