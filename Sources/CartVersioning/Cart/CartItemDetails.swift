/// The last-writer-wins fields an operation sets on an item; `nil` leaves a field as it is.
///
/// Thread safety: a `Sendable` value type.
public struct CartItemDetails: Hashable, Sendable, Codable {
    /// New display name.
    public var name: String?
    /// New unit price in minor units (cents); must not be negative.
    public var priceMinor: Int64?
    /// New metadata (replaces the whole map).
    public var metadata: [String: String]?

    /// Creates details; omitted fields are left unchanged.
    public init(name: String? = nil, priceMinor: Int64? = nil, metadata: [String: String]? = nil) {
        self.name = name
        self.priceMinor = priceMinor
        self.metadata = metadata
    }

    /// True if no field is set.
    public var isEmpty: Bool { name == nil && priceMinor == nil && metadata == nil }
}
