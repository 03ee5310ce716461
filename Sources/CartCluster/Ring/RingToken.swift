import CartStorage

/// A key's place on the ring: MurmurHash64A of the key's bytes with the ring's own seed (not the
/// bloom filters', so that the keys one segment holds, which share their tokens' high bits, do
/// not share their filter bits). Part of the on-disk key layout and of every node's routing:
/// it never changes (data-format.md, "Ring tokens and stored keys", has test vectors).
public enum RingToken {
    /// The ring's MurmurHash64A seed.
    public static let seed: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The token of `key`.
    public static func of(_ key: some Collection<UInt8>) -> UInt64 {
        if let token = key.withContiguousStorageIfAvailable({ Hash64.hash(UnsafeRawBufferPointer($0), seed: seed) }) {
            return token
        }
        return Array(key).withUnsafeBytes { Hash64.hash($0, seed: seed) }
    }
}
