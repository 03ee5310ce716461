/// What a cart read answers: the visible items and the causal context to send back.
///
/// JSON (stable; keys sorted by the API's encoder):
/// `{"context":"<base64 token>","items":[CartItem…]}`, items ascending by SKU bytes.
///
/// Thread safety: a `Sendable` value type.
public struct CartView: Hashable, Sendable, Codable {
    /// Items with a positive quantity, ascending by SKU (UTF-8 bytes).
    public var items: [CartItem]
    /// The causal context of the state read; pass it as `observed` with the next operation.
    public var context: CausalContext

    /// Creates a view.
    public init(items: [CartItem], context: CausalContext) {
        self.items = items
        self.context = context
    }

    private enum CodingKeys: String, CodingKey {
        case items
        case context
    }

    /// Decodes `{"items":[…],"context":"<token>"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        items = try container.decode([CartItem].self, forKey: .items)
        let token = try container.decode(String.self, forKey: .context)
        do {
            context = try CausalContext(token: token)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .context, in: container, debugDescription: String(describing: error))
        }
    }

    /// Encodes `{"items":[…],"context":"<token>"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        do {
            try container.encode(try context.token(), forKey: .context)
        } catch let error as RecordCodecError {
            throw EncodingError.invalidValue(context, .init(codingPath: encoder.codingPath + [CodingKeys.context],
                                                            debugDescription: String(describing: error)))
        }
    }
}
