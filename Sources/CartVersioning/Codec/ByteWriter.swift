/// Appends record fields to a byte buffer (see `RecordFormat`).
///
/// Thread safety: a value type used by one encoder at a time.
struct ByteWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []

    /// One raw byte.
    mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    /// Unsigned LEB128, minimal form.
    mutating func uvarint(_ value: UInt64) {
        LEB128.append(value, to: &bytes)
    }

    /// Unsigned LEB128 of a count or length.
    mutating func count(_ value: Int) {
        uvarint(UInt64(max(0, value)))
    }

    /// Zig-zag, then LEB128: 0, -1, 1, -2 … encode as 0, 1, 2, 3 ….
    mutating func svarint(_ value: Int64) {
        uvarint(LEB128.zigzag(value))
    }

    /// Varint length, then the bytes.
    mutating func lengthPrefixed(_ value: [UInt8]) {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    /// Varint length, then UTF-8.
    mutating func string(_ value: String) {
        count(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }
}
