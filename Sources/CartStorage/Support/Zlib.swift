import CZlib

/// zlib (RFC 1950) compression of whole blocks through `compress2`/`uncompress`.
enum Zlib {
    /// Compresses `input` at `level` (1...9). Returns nil if zlib fails (never expected).
    static func compress(_ input: ArraySlice<UInt8>, level: Int32) -> [UInt8]? {
        let bound = Int(compressBound(uLong(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        var outLen = uLongf(bound)
        let rc = input.withUnsafeBytes { src -> Int32 in
            out.withUnsafeMutableBytes { dst -> Int32 in
                compress2(dst.baseAddress!.assumingMemoryBound(to: Bytef.self), &outLen,
                          src.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(input.count), level)
            }
        }
        guard rc == Z_OK else { return nil }
        out.removeLast(bound - Int(outLen))
        return out
    }

    /// Decompresses into exactly `rawSize` bytes; nil if the stream is invalid or of another size.
    static func decompress(_ input: ArraySlice<UInt8>, rawSize: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(rawSize, 1))
        var outLen = uLongf(rawSize)
        let rc = input.withUnsafeBytes { src -> Int32 in
            out.withUnsafeMutableBytes { dst -> Int32 in
                uncompress(dst.baseAddress!.assumingMemoryBound(to: Bytef.self), &outLen,
                           src.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(input.count))
            }
        }
        guard rc == Z_OK, Int(outLen) == rawSize else { return nil }
        if rawSize == 0 { return [] }
        return out
    }
}
