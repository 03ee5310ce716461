/// Reads the encodings written by `ByteWriter` from a byte slice, never trapping: every read
/// checks bounds and reports a `ByteReader.Failure` with the offset where decoding stopped.
///
/// Value type; the caller maps failures to a `StorageError` naming the file.
public struct ByteReader {
    public enum Failure: Error, Sendable, Equatable {
        case truncated(offset: Int, needed: Int)
        case badVarint(offset: Int)
    }

    public let base: ArraySlice<UInt8>
    /// Absolute index into `base` of the next byte to read.
    public private(set) var position: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        base = bytes
        position = bytes.startIndex
    }

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Offset of the next byte, relative to the start of the slice.
    public var offset: Int { position - base.startIndex }
    public var remaining: Int { base.endIndex - position }
    public var isAtEnd: Bool { position >= base.endIndex }

    @inline(__always)
    private mutating func need(_ n: Int) throws(Failure) {
        if n < 0 || base.endIndex - position < n { throw .truncated(offset: offset, needed: n) }
    }

    public mutating func readU8() throws(Failure) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return base[position]
    }

    public mutating func readFixed16() throws(Failure) -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(base[position]) | UInt16(base[position + 1]) << 8
    }

    public mutating func readFixed32() throws(Failure) -> UInt32 {
        try need(4)
        defer { position += 4 }
        return decodeFixed32(base, at: position)
    }

    public mutating func readFixed64() throws(Failure) -> UInt64 {
        try need(8)
        defer { position += 8 }
        return decodeFixed64(base, at: position)
    }

    public mutating func readVarint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard position < base.endIndex else { throw .truncated(offset: start, needed: 1) }
            let b = base[position]
            position += 1
            if shift == 63 && b > 1 { throw .badVarint(offset: start) }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .badVarint(offset: start) }
        }
    }

    /// A varint that must fit in `Int` and be at most `limit`.
    public mutating func readLength(limit: Int = Int(Int32.max)) throws(Failure) -> Int {
        let start = offset
        let v = try readVarint()
        guard v <= UInt64(limit) else { throw .truncated(offset: start, needed: Int(clamping: v)) }
        return Int(v)
    }

    public mutating func readBytes(_ n: Int) throws(Failure) -> ArraySlice<UInt8> {
        try need(n)
        defer { position += n }
        return base[position..<(position + n)]
    }

    public mutating func readLengthPrefixed() throws(Failure) -> ArraySlice<UInt8> {
        let n = try readLength()
        return try readBytes(n)
    }
}

@inline(__always)
func decodeFixed32<C: RandomAccessCollection>(_ b: C, at i: C.Index) -> UInt32 where C.Element == UInt8, C.Index == Int {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}

@inline(__always)
func decodeFixed64<C: RandomAccessCollection>(_ b: C, at i: C.Index) -> UInt64 where C.Element == UInt8, C.Index == Int {
    UInt64(decodeFixed32(b, at: i)) | UInt64(decodeFixed32(b, at: i + 4)) << 32
}
