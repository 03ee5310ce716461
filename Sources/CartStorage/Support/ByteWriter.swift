/// Appends little-endian fixed-width integers, LEB128 varints and byte strings to a growable
/// byte array. All on-disk formats of CartStorage are written through this type.
///
/// Value type; not shared between threads.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func reserveCapacity(_ n: Int) { bytes.reserveCapacity(n) }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    @inline(__always)
    public mutating func writeU8(_ v: UInt8) { bytes.append(v) }

    @inline(__always)
    public mutating func writeFixed16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always)
    public mutating func writeFixed32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func writeFixed64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// LEB128: 7 bits per byte, low bits first, high bit set on every byte but the last.
    @inline(__always)
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    public mutating func writeBytes<C: Collection>(_ b: C) where C.Element == UInt8 {
        bytes.append(contentsOf: b)
    }

    /// A varint length followed by the bytes.
    @inline(__always)
    public mutating func writeLengthPrefixed<C: Collection>(_ b: C) where C.Element == UInt8 {
        writeVarint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    /// Overwrites 4 bytes at `offset` with `v` (little-endian).
    public mutating func patchFixed32(at offset: Int, _ v: UInt32) {
        var x = v.littleEndian
        for i in 0..<4 {
            bytes[offset + i] = UInt8(truncatingIfNeeded: x)
            x >>= 8
        }
    }

    /// Size in bytes of `value` encoded as a varint.
    public static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}
