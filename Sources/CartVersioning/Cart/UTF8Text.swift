#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text compared, hashed, ordered and stored by its UTF-8 bytes: SKUs, names, metadata keys and
/// values inside a cart.
///
/// Why not `String`: Swift compares strings by Unicode canonical equivalence, so "café" in NFC
/// and in NFD are equal `String`s with different bytes; a cart keyed by `String` would merge the
/// two into one item whose stored bytes depend on which replica's spelling survived, and equal
/// states would encode differently (contract 9: equal states, equal bytes). Here identity is the
/// bytes; `CartState.apply` brings every operation's text to NFC before it reaches the cart.
///
/// Invariant: `bytes` is valid UTF-8 (every initializer guarantees it).
/// Thread safety: a `Sendable` value type.
public struct UTF8Text: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The UTF-8 bytes.
    public let bytes: [UInt8]

    /// The bytes of `string`, as given (no normalization).
    public init(_ string: String) { bytes = Array(string.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    /// Bytes the caller has checked are valid UTF-8 (the decoder).
    init(validatedUTF8 bytes: [UInt8]) { self.bytes = bytes }

    /// The text as a `String`.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { string }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Bytewise order: the order of SKUs and metadata keys in records and in JSON, reproducible
    /// in any language (unlike `String.<`, which is Unicode-aware). One `memcmp` over the common
    /// prefix, the shorter text first on a tie (operation ids are compared often: the cart's
    /// operation log is kept sorted by them).
    public static func < (lhs: UTF8Text, rhs: UTF8Text) -> Bool {
        let common = min(lhs.bytes.count, rhs.bytes.count)
        let order = lhs.bytes.withUnsafeBytes { l in rhs.bytes.withUnsafeBytes { r in common == 0 ? 0 : memcmp(l.baseAddress!, r.baseAddress!, common) } }
        return order != 0 ? order < 0 : lhs.bytes.count < rhs.bytes.count
    }

    /// Hashes the bytes in one call (the synthesized conformance would feed them one by one).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
