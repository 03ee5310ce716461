/// MurmurHash64A (Austin Appleby, public domain algorithm) over a byte range: the hash behind
/// bloom filters (with `seed`) and, with its own seed, the cluster's ring tokens. Its output is
/// part of the segment format (filter bits are set from it) and of the on-disk key layout (keys
/// are stored under their token), so it must never change.
public enum Hash64 {
    /// The bloom filters' seed (segment format 1).
    public static let seed: UInt64 = 0xC0FF_EE00_CA27_5709

    /// MurmurHash64A of `bytes` with `seed`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = Hash64.seed) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        let len = bytes.count
        var h = seed ^ (UInt64(len) &* m)
        let words = len / 8
        for i in 0..<words {
            var k = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            k = k &* m
            k ^= k >> r
            k = k &* m
            h ^= k
            h = h &* m
        }
        let tail = len & 7
        if tail > 0 {
            var t: UInt64 = 0
            for j in 0..<tail { t |= UInt64(bytes[words * 8 + j]) << (8 * UInt64(j)) }
            h ^= t
            h = h &* m
        }
        h ^= h >> r
        h = h &* m
        h ^= h >> r
        return h
    }

    /// MurmurHash64A of `bytes` with `seed`.
    public static func hash(_ bytes: ArraySlice<UInt8>, seed: UInt64 = Hash64.seed) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }
}
