/// Constants of the record encoding; data-format.md ("Record codec") ("Record codec (CartVersioning)") is
/// the specification, this file and `RecordCodec` must agree with it byte for byte.
///
/// ```
/// record := version:u8 kind:u8 body        ; header = 1 + 1 bytes
/// ```
/// Integers are unsigned LEB128 varints (at most 10 bytes, minimal encoding only) unless noted;
/// signed integers are zig-zag then LEB128; strings are varint byte length + UTF-8 bytes.
enum RecordFormat {
    /// Bytes before the body: version (1) + kind (1).
    static let headerBytes = 1 + 1
    /// Longest varint: ceil(64 / 7) bytes.
    static let varintBytesMax = 10
    /// Sibling flags bit 0: the version is a deletion (key tombstone). Other bits must be 0.
    static let siblingFlagDeletion: UInt8 = 0x01
    /// Every flag bit defined so far.
    static let siblingFlagsKnown: UInt8 = siblingFlagDeletion

    /// Format versions, in order. Never renumber; a retired number stays listed.
    enum Version: UInt8, Comparable {
        /// 1: sibling sets (DVVSet), carts (ORMap with causal context), causal-context tokens.
        case v1 = 1

        /// The version this code writes.
        static let current = Version.v1

        static func < (lhs: Version, rhs: Version) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// What a record holds. Never renumber; a retired number stays listed.
    enum Kind: UInt8 {
        /// 1: `SiblingSet` (opaque values, `siblings` and `lastWriteWins` policies).
        case siblings = 1
        /// 2: `CartState` (`cart` policy).
        case cart = 2
        /// 3: `CausalContext` alone: the opaque context token handed to clients.
        case causalContext = 3
    }
}
