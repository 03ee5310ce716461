/// MurmurHash64A (Austin Appleby, public domain algorithm) over a byte range: the hash behind
/// bloom filters. Its output is part of the segment format (filter bits are set from it), so it
/// must never change for format version 1.
enum Hash64 {
    static let seed: UInt64 = 0xC0FF_EE00_CA27_5709

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
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

    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
