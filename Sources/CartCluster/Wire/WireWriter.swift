import CartVersioning

/// Appends message fields to a byte buffer (see data-format.md, "Internode messages").
///
/// Fixed-width integers are big-endian; lengths and counts are minimal unsigned LEB128. Methods
/// that take a limit refuse (with a `WireError` at offset 0) anything the reader would refuse, so
/// that every message that encodes also decodes.
///
/// Thread safety: a value type used by one encoder at a time.
struct WireWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []

    init() {}

    /// One raw byte.
    mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    /// 2 bytes, big-endian.
    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// 4 bytes, big-endian.
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    /// 8 bytes, big-endian.
    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// `0x00` or `0x01`.
    mutating func bool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Unsigned LEB128, minimal form.
    mutating func uvarint(_ value: UInt64) {
        LEB128.append(value, to: &bytes)
    }

    /// Zig-zag, then LEB128: 0, -1, 1, -2 … encode as 0, 1, 2, 3 ….
    mutating func svarint(_ value: Int64) {
        uvarint(LEB128.zigzag(value))
    }

    /// A Swift `Int` as an svarint.
    mutating func svarint(_ value: Int) {
        svarint(Int64(value))
    }

    /// A non-negative `Int` (a count, an ack count, R or W) as a uvarint, at most `limit`.
    mutating func count(_ value: Int, _ what: String, max limit: Int = Int.max) throws(WireError) {
        guard value >= 0 else {
            throw WireError(.invalidValue, offset: 0, expected: "\(what) >= 0, got \(value)")
        }
        guard value <= limit else {
            throw WireError(.limitExceeded, offset: 0, expected: "\(what) <= \(limit), got \(value)")
        }
        uvarint(UInt64(value))
    }

    /// Varint length (at most `maxBytes`), then the bytes.
    mutating func lengthPrefixed(_ value: [UInt8], _ what: String, maxBytes: Int) throws(WireError) {
        try count(value.count, "\(what) length", max: maxBytes)
        bytes.append(contentsOf: value)
    }

    /// Varint length (at most `maxBytes`), then the UTF-8 bytes exactly as the string holds them
    /// (no normalization).
    mutating func string(_ value: String, _ what: String, maxBytes: Int) throws(WireError) {
        try lengthPrefixed(Array(value.utf8), what, maxBytes: maxBytes)
    }
}
