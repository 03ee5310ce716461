/// Varints as every CartStore format writes them (records and context tokens here, internode
/// messages in CartCluster): unsigned LEB128 in its minimal form, at most 10 bytes for 64 bits,
/// and signed values zig-zagged first (0, -1, 1, -2 … as 0, 1, 2, 3 …). One implementation, so
/// that the formats cannot drift apart; each reader maps a `Failure` into its own error type.
///
/// Thread safety: stateless.
public enum LEB128 {
    /// Most bytes of a varint holding 64 bits.
    public static let bytesMax = 10

    /// Why bytes are not a minimal 64-bit varint.
    public enum Failure: Error, Hashable, Sendable {
        /// The bytes end before the varint does.
        case truncated
        /// The tenth byte carries bits beyond the 64th.
        case beyond64Bits
        /// A longer form than needed (a final zero byte after the first).
        case nonMinimal
        /// Ten bytes, all with the continuation bit.
        case tooLong
    }

    /// Appends `value` in its minimal form.
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: remaining))
    }

    /// Reads the varint at `offset`, advancing it past every byte examined (on `.truncated`,
    /// to the end of `bytes`).
    public static func read(_ bytes: [UInt8], at offset: inout Int) throws(Failure) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<bytesMax {
            guard offset < bytes.count else { throw .truncated }
            let byte = bytes[offset]
            offset += 1
            let payload = UInt64(byte & 0x7F)
            if index == bytesMax - 1, payload > 1 { throw .beyond64Bits }
            value |= payload << shift
            if byte & 0x80 == 0 {
                if index > 0, byte == 0 { throw .nonMinimal }
                return value
            }
            shift += 7
        }
        throw .tooLong
    }

    /// The zig-zag form of `value`.
    public static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    /// The value of a zig-zag form.
    public static func unzigzag(_ raw: UInt64) -> Int64 { Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))) }
}
