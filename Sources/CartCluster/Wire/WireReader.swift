import CartVersioning

/// Reads message fields from untrusted bytes (a peer's frame). Every method either returns a
/// value or throws a `WireError` naming the offset and the expected field; none can trap, and
/// none allocates more than the bytes present (a claimed length or count is checked against the
/// remaining bytes before anything is read).
///
/// Thread safety: a value type used by one decoder at a time.
struct WireReader {
    private let bytes: [UInt8]
    /// Offset of the next unread byte.
    private(set) var offset: Int = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Bytes not yet read.
    var remaining: Int { bytes.count - offset }

    /// An error at the current offset.
    func error(_ code: WireError.Code, _ expected: String) -> WireError {
        WireError(code, offset: offset, expected: expected)
    }

    /// Refuses bytes left after the message.
    func finish() throws(WireError) {
        guard remaining == 0 else {
            throw error(.trailingBytes, "end of message, \(remaining) bytes left")
        }
    }

    /// One raw byte.
    mutating func u8(_ what: String) throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw error(.truncated, what) }
        let value = bytes[offset]
        offset += 1
        return value
    }

    /// `width` bytes, big-endian, as a `UInt64` (width 1…8).
    private mutating func bigEndian(_ what: String, width: Int) throws(WireError) -> UInt64 {
        guard remaining >= width else {
            throw error(.truncated, "\(what) (\(width) bytes, \(remaining) left)")
        }
        var value: UInt64 = 0
        for index in offset..<(offset + width) {
            value = (value << 8) | UInt64(bytes[index])
        }
        offset += width
        return value
    }

    /// 2 bytes, big-endian.
    mutating func u16(_ what: String) throws(WireError) -> UInt16 {
        try UInt16(truncatingIfNeeded: bigEndian(what, width: 2))
    }

    /// 4 bytes, big-endian.
    mutating func u32(_ what: String) throws(WireError) -> UInt32 {
        try UInt32(truncatingIfNeeded: bigEndian(what, width: 4))
    }

    /// 8 bytes, big-endian.
    mutating func u64(_ what: String) throws(WireError) -> UInt64 {
        try bigEndian(what, width: 8)
    }

    /// `0x00` (false) or `0x01` (true); any other byte is an error.
    mutating func bool(_ what: String) throws(WireError) -> Bool {
        let start = offset
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let other:
            throw WireError(.invalidValue, offset: start, expected: "\(what) as 0 or 1, got \(other)")
        }
    }

    /// The presence byte of an optional field: `0x00` absent, `0x01` present, else an error.
    mutating func present(_ what: String) throws(WireError) -> Bool {
        try bool("presence of \(what)")
    }

    /// Unsigned LEB128; rejects more than 10 bytes, bits beyond 64 and non-minimal forms.
    mutating func uvarint(_ what: String) throws(WireError) -> UInt64 {
        let start = offset
        do {
            return try LEB128.read(bytes, at: &offset)
        } catch {
            switch error {
            case .truncated: throw self.error(.truncated, what)
            case .beyond64Bits: throw WireError(.malformedVarint, offset: start, expected: "\(what) within 64 bits")
            case .nonMinimal: throw WireError(.nonMinimalVarint, offset: start, expected: "\(what) in shortest form")
            case .tooLong: throw WireError(.malformedVarint, offset: start, expected: "\(what) in at most 10 bytes")
            }
        }
    }

    /// An unsigned varint in `range`.
    mutating func uvarint(_ what: String, in range: ClosedRange<UInt64>) throws(WireError) -> UInt64 {
        let start = offset
        let value = try uvarint(what)
        guard range.contains(value) else {
            throw WireError(value > range.upperBound ? .limitExceeded : .invalidValue, offset: start,
                            expected: "\(what) in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    /// Zig-zag LEB128.
    mutating func svarint(_ what: String) throws(WireError) -> Int64 {
        LEB128.unzigzag(try uvarint(what))
    }

    /// Zig-zag LEB128 that fits a Swift `Int` (always, on 64-bit platforms).
    mutating func svarintInt(_ what: String) throws(WireError) -> Int {
        let start = offset
        let value = try svarint(what)
        guard let result = Int(exactly: value) else {
            throw WireError(.invalidValue, offset: start, expected: "\(what) within Int, got \(value)")
        }
        return result
    }

    /// A non-negative `Int` written by `WireWriter.count`: at most `limit`.
    mutating func countValue(_ what: String, max limit: Int = Int.max) throws(WireError) -> Int {
        let value = try uvarint(what, in: 0...UInt64(Swift.max(0, limit)))
        // `limit` is an `Int`, so the value fits.
        return Int(value)
    }

    /// A count in `0...limit` that also fits in the remaining bytes (each element takes at least
    /// `minimumElementBytes`), so a huge claimed count fails here, before any allocation.
    mutating func count(_ what: String, max limit: Int, minimumElementBytes: Int = 1) throws(WireError) -> Int {
        let start = offset
        let count = try countValue(what, max: limit)
        guard count <= remaining / Swift.max(1, minimumElementBytes) else {
            throw WireError(.truncated, offset: start, expected: "\(count) \(what) in \(remaining) remaining bytes")
        }
        return count
    }

    /// Varint length (at most `maxBytes`), then that many bytes.
    mutating func lengthPrefixed(_ what: String, maxBytes: Int) throws(WireError) -> [UInt8] {
        let length = try count("\(what) length", max: maxBytes)
        let value = Array(bytes[offset..<(offset + length)])
        offset += length
        return value
    }

    /// Varint length (at most `maxBytes`), then valid UTF-8, kept exactly (no normalization).
    mutating func string(_ what: String, maxBytes: Int) throws(WireError) -> String {
        let start = offset
        let raw = try lengthPrefixed(what, maxBytes: maxBytes)
        guard let value = String(validating: raw, as: UTF8.self) else {
            throw WireError(.invalidUTF8, offset: start, expected: "\(what) as UTF-8")
        }
        return value
    }
}
