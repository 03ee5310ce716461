/// How concurrent writes to a key are resolved.
///
/// Raw values may be written to disk or the wire: never renumber, never reuse a retired number.
/// In JSON and config files a policy is its case name (`"siblings"`, `"lastWriteWins"`, `"cart"`).
///
/// Thread safety: a `Sendable` value type.
public enum ConflictPolicy: UInt8, Hashable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// Keep every concurrent version as a sibling (DVVSet); the client resolves. Never renumber: 1.
    case siblings = 1
    /// Keep one winner by `(timestamp, replica id)`; concurrent writes may be lost. Never renumber: 2.
    case lastWriteWins = 2
    /// The value is a cart CRDT; concurrent operations merge, nothing is lost. Never renumber: 3.
    case cart = 3

    /// The case name, as used in JSON and config.
    public var description: String {
        switch self {
        case .siblings: return "siblings"
        case .lastWriteWins: return "lastWriteWins"
        case .cart: return "cart"
        }
    }

    /// Parses a case name.
    public init?(name: String) {
        guard let policy = ConflictPolicy.allCases.first(where: { $0.description == name }) else { return nil }
        self = policy
    }

    /// Decodes a case name.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let policy = ConflictPolicy(name: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown conflict policy \"\(name)\"")
        }
        self = policy
    }

    /// Encodes the case name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
