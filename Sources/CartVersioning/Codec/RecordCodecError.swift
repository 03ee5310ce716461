/// Why bytes could not be decoded (or a value could not be encoded within the limits).
///
/// Every decoding failure is one of these, with the byte offset where it was found and what was
/// expected there; decoding never traps on any input.
///
/// Thread safety: a `Sendable` value type.
public struct RecordCodecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The input ended before the field.
        case truncated
        /// A varint longer than 10 bytes or beyond the field's range.
        case malformedVarint
        /// A varint not in its shortest form (canonical encodings only).
        case nonMinimalVarint
        /// A format version this code does not read.
        case unsupportedVersion
        /// A record kind this code does not know.
        case unknownKind
        /// A known kind, but not the one the caller asked for.
        case unexpectedKind
        /// A count, length or total size beyond `VersioningLimits`.
        case limitExceeded
        /// Well-formed but not canonical: order, duplicates, unused or unknown references.
        case nonCanonical
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A value outside its domain (zero counter, unknown flag bit, dot outside the context).
        case invalidValue
        /// Bytes left after the record.
        case trailingBytes
        /// A context token that is not valid base64.
        case invalidToken
    }

    /// The kind of failure.
    public var code: Code
    /// Byte offset in the input where it was found (0 for encoding errors).
    public var offset: Int
    /// What was expected there, e.g. "sibling count <= 32".
    public var expected: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, expected: String) {
        self.code = code
        self.offset = offset
        self.expected = expected
    }

    /// `code at offset N: expected …`.
    public var description: String { "\(code.rawValue) at offset \(offset): expected \(expected)" }
}
