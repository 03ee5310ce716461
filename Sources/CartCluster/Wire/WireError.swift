import CartVersioning

/// Why bytes from a peer could not be decoded into a `ClusterMessage` (or a message could not be
/// encoded within the wire limits).
///
/// Every decoding failure is one of these, with the byte offset in the message where it was
/// found and what was expected there; decoding never traps on any input. A record or context
/// that the record codec refused keeps that codec's error as `cause` (its offset is then also
/// translated into the message's offsets).
///
/// Thread safety: a `Sendable` value type.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The input ended before the field.
        case truncated
        /// A varint longer than 10 bytes or beyond 64 bits.
        case malformedVarint
        /// A varint not in its shortest form (one message, one encoding).
        case nonMinimalVarint
        /// A message format version this code does not read.
        case unsupportedVersion
        /// A tag (message, operation, reply, error case, policy) this code does not know.
        case unknownTag
        /// A value outside its domain: a presence or boolean byte other than 0 or 1, a zero dot
        /// counter, an integer that does not fit its Swift type, a negative count or tree index
        /// on encoding, a `treeHashes` whose hashes and indices differ in number on encoding.
        case invalidValue
        /// A length or count beyond the wire limits (`ClusterMessageCodec.keyBytesMax` and others).
        case limitExceeded
        /// Well-formed but not canonical: metadata keys not strictly ascending, a version vector
        /// with a dot cloud, tree indices (of `treeHashes`, `treeHashesReply`, `treeKeys`) not
        /// strictly ascending.
        case nonCanonical
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A record or causal context the record codec refused (`cause` says why).
        case invalidRecord
        /// Bytes left after the message.
        case trailingBytes
    }

    /// The kind of failure.
    public var code: Code
    /// Byte offset in the message where it was found (0 for encoding errors).
    public var offset: Int
    /// What was expected there, e.g. "key length <= 65527".
    public var expected: String
    /// The record codec's error, for `invalidRecord`.
    public var cause: RecordCodecError?

    /// Creates an error.
    public init(_ code: Code, offset: Int, expected: String, cause: RecordCodecError? = nil) {
        self.code = code
        self.offset = offset
        self.expected = expected
        self.cause = cause
    }

    /// `code at offset N: expected …` (then the record codec's reason, if any).
    public var description: String {
        let base = "\(code.rawValue) at offset \(offset): expected \(expected)"
        guard let cause else { return base }
        return "\(base) (record codec: \(cause))"
    }
}
