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
    /// Sibling flags bit 0: the version is a deletion (key tombstone). Other bits must be 0.
    static let siblingFlagDeletion: UInt8 = 0x01
    /// Every flag bit defined so far.
    static let siblingFlagsKnown: UInt8 = siblingFlagDeletion

    /// Format versions, in order. Never renumber; a retired number stays listed. The version
    /// byte versions the body of the record's kind: each kind is written at one version.
    enum Version: UInt8, Comparable {
        /// 1: sibling sets (DVVSet), carts (ORMap with folded quantity contributions), causal
        /// context tokens. Sibling sets and tokens are still written at version 1; version 1
        /// carts are refused with `unsupportedVersion`.
        case v1 = 1
        /// 2: exact carts (per-replica quantity series with reset watermarks, set entries, the
        /// operation log), text compared as bytes.
        case v2 = 2

        static func < (lhs: Version, rhs: Version) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The one version each kind is written (and read) at.
    static func version(of kind: Kind) -> Version {
        switch kind {
        case .siblings, .causalContext: return .v1
        case .cart: return .v2
        }
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
