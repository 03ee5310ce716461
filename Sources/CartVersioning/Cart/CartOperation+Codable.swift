/// JSON form of cart operations, discriminated by `"op"` (see `CartOperation`).
extension CartOperation: Codable {
    private enum CodingKeys: String, CodingKey {
        case op, sku, quantity, delta, name, priceMinor, metadata
    }

    /// The `"op"` names. Stable API: never rename.
    private enum Name: String, Codable {
        case add, changeQuantity, setQuantity, updateDetails, remove, clear
    }

    /// Decodes `{"op":…, …}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let details = CartItemDetails(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            priceMinor: try container.decodeIfPresent(Int64.self, forKey: .priceMinor),
            metadata: try container.decodeIfPresent([String: String].self, forKey: .metadata)
        )
        switch try container.decode(Name.self, forKey: .op) {
        case .add:
            self = .add(sku: try container.decode(String.self, forKey: .sku),
                        quantity: try container.decode(Int64.self, forKey: .quantity), details: details)
        case .changeQuantity:
            self = .changeQuantity(sku: try container.decode(String.self, forKey: .sku),
                                   delta: try container.decode(Int64.self, forKey: .delta))
        case .setQuantity:
            self = .setQuantity(sku: try container.decode(String.self, forKey: .sku),
                                quantity: try container.decode(Int64.self, forKey: .quantity))
        case .updateDetails:
            self = .updateDetails(sku: try container.decode(String.self, forKey: .sku), details: details)
        case .remove:
            self = .remove(sku: try container.decode(String.self, forKey: .sku))
        case .clear:
            self = .clear
        }
    }

    /// Encodes `{"op":…, …}`; absent detail fields are omitted.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .add(sku, quantity, details):
            try container.encode(Name.add, forKey: .op)
            try container.encode(sku, forKey: .sku)
            try container.encode(quantity, forKey: .quantity)
            try encodeDetails(details, into: &container)
        case let .changeQuantity(sku, delta):
            try container.encode(Name.changeQuantity, forKey: .op)
            try container.encode(sku, forKey: .sku)
            try container.encode(delta, forKey: .delta)
        case let .setQuantity(sku, quantity):
            try container.encode(Name.setQuantity, forKey: .op)
            try container.encode(sku, forKey: .sku)
            try container.encode(quantity, forKey: .quantity)
        case let .updateDetails(sku, details):
            try container.encode(Name.updateDetails, forKey: .op)
            try container.encode(sku, forKey: .sku)
            try encodeDetails(details, into: &container)
        case let .remove(sku):
            try container.encode(Name.remove, forKey: .op)
            try container.encode(sku, forKey: .sku)
        case .clear:
            try container.encode(Name.clear, forKey: .op)
        }
    }

    private func encodeDetails(_ details: CartItemDetails, into container: inout KeyedEncodingContainer<CodingKeys>) throws {
        try container.encodeIfPresent(details.name, forKey: .name)
        try container.encodeIfPresent(details.priceMinor, forKey: .priceMinor)
        try container.encodeIfPresent(details.metadata, forKey: .metadata)
    }
}
