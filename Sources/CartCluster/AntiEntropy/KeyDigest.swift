/// One key's entry in an anti-entropy exchange: the user key and the 64-bit hash of its stored
/// record (`MerkleTree.hash(storedKey:value:)`). Two replicas hold the same record of a key
/// exactly when their digests' hashes are equal (records encode canonically; a collision is a
/// 2^-64 event).
///
/// Thread safety: a `Sendable` value type.
public struct KeyDigest: Hashable, Sendable {
    public var key: [UInt8]
    public var hash: UInt64

    public init(key: [UInt8], hash: UInt64) {
        self.key = key
        self.hash = hash
    }
}
