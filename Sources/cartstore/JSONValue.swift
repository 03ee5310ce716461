import Foundation

/// Any JSON value, decoded without loss of kind (a `1` stays a number, a `true` a boolean), for
/// the parts of the API whose shape this client does not fix (status counters, metadata,
/// error bodies).
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// `bytes` decoded as one JSON value.
    static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value as one line of text: strings unquoted, numbers and booleans as written,
    /// arrays and objects in compact JSON-like form with keys sorted.
    var displayText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .string(let value): return value
        case .array(let values): return "[" + values.map(\.quotedText).joined(separator: ", ") + "]"
        case .object(let members):
            let parts = members.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value.quotedText)" }
            return "{" + parts.joined(separator: ", ") + "}"
        }
    }

    /// Like ``displayText`` but with strings in double quotes, for values nested in others.
    private var quotedText: String {
        if case .string(let value) = self { return "\"\(value)\"" }
        return displayText
    }

    /// The leaves of this value as `(path, value)` pairs, objects' keys sorted and joined to
    /// `prefix` with dots (`statistics.reads`); arrays and scalars are leaves.
    func flattened(prefix: String) -> [(path: String, value: JSONValue)] {
        guard case .object(let members) = self, !members.isEmpty else { return [(path: prefix, value: self)] }
        var out: [(path: String, value: JSONValue)] = []
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            let path = prefix.isEmpty ? key : prefix + "." + key
            out.append(contentsOf: value.flattened(prefix: path))
        }
        return out
    }
}
