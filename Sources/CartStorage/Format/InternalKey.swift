/// Internal keys order every version of every user key:
/// user key ascending (bytewise), then sequence number **descending**, so that the newest
/// version of a key is met first.
///
/// Encoded form (in segments): `user_key ++ fixed64_le(sequence << 8 | kind)`: the trailer is
/// the last 8 bytes. Sequence numbers are 56 bits.
enum InternalKey {
    static let trailerSize = 8
    /// Largest sequence number that fits the 56-bit field.
    static let maxSequence: UInt64 = (1 << 56) - 1

    @inline(__always)
    static func packTrailer(sequence: UInt64, kind: ValueKind) -> UInt64 {
        sequence << 8 | UInt64(kind.rawValue)
    }

    static func encode(userKey: ArraySlice<UInt8>, sequence: UInt64, kind: ValueKind) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(userKey.count + trailerSize)
        out.append(contentsOf: userKey)
        withUnsafeBytes(of: packTrailer(sequence: sequence, kind: kind).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// A seek target that sorts before every version of `userKey` visible at `sequence`.
    static func seekKey(userKey: ArraySlice<UInt8>, sequence: UInt64) -> [UInt8] {
        encode(userKey: userKey, sequence: sequence, kind: .value)
    }

    @inline(__always)
    static func userKey(_ encoded: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        encoded[encoded.startIndex..<(encoded.endIndex - trailerSize)]
    }

    @inline(__always)
    static func trailer(_ encoded: ArraySlice<UInt8>) -> UInt64 {
        decodeFixed64(encoded, at: encoded.endIndex - trailerSize)
    }

    /// A short rendering for error messages: the user key in hex, `@sequence`, and the kind.
    static func describe(_ encoded: ArraySlice<UInt8>) -> String {
        guard encoded.count >= trailerSize else { return "0x" + hex(encoded) + " (no trailer)" }
        let t = trailer(encoded)
        return "0x" + hex(userKey(encoded)) + "@\(t >> 8)/\(t & 0xff)"
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2 * bytes.count)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Total order on encoded internal keys (both must be at least 8 bytes long).
    @inline(__always)
    static func compare(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        let c = compareBytes(userKey(a), userKey(b))
        if c != 0 { return c }
        let ta = trailer(a), tb = trailer(b)
        return ta > tb ? -1 : (ta < tb ? 1 : 0)
    }
}

/// Bytewise lexicographic comparison (memcmp, then length): -1, 0 or 1.
@inline(__always)
func compareBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
    a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in compareRaw(pa, pb) }
    }
}

@inline(__always)
func compareRaw(_ pa: UnsafeRawBufferPointer, _ pb: UnsafeRawBufferPointer) -> Int {
    let n = min(pa.count, pb.count)
    if n > 0 {
        let r = memcmp(pa.baseAddress!, pb.baseAddress!, n)
        if r != 0 { return r < 0 ? -1 : 1 }
    }
    return pa.count < pb.count ? -1 : (pa.count > pb.count ? 1 : 0)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
