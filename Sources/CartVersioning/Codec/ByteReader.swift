/// Reads record fields from untrusted bytes. Every method either returns a value or throws a
/// `RecordCodecError` naming the offset and the expected field; none can trap.
///
/// Thread safety: a value type used by one decoder at a time.
struct ByteReader {
    private let bytes: [UInt8]
    /// Offset of the next unread byte.
    private(set) var offset: Int = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Bytes not yet read.
    var remaining: Int { bytes.count - offset }

    /// An error at the current offset.
    func error(_ code: RecordCodecError.Code, _ expected: String) -> RecordCodecError {
        RecordCodecError(code, offset: offset, expected: expected)
    }

    /// One raw byte.
    mutating func u8(_ what: String) throws(RecordCodecError) -> UInt8 {
        guard offset < bytes.count else { throw error(.truncated, what) }
        let value = bytes[offset]
        offset += 1
        return value
    }

    /// Unsigned LEB128; rejects more than 10 bytes, bits beyond 64 and non-minimal forms.
    mutating func uvarint(_ what: String) throws(RecordCodecError) -> UInt64 {
        let start = offset
        do {
            return try LEB128.read(bytes, at: &offset)
        } catch {
            switch error {
            case .truncated: throw RecordCodecError(.truncated, offset: offset, expected: what)
            case .beyond64Bits: throw RecordCodecError(.malformedVarint, offset: start, expected: "\(what) within 64 bits")
            case .nonMinimal: throw RecordCodecError(.nonMinimalVarint, offset: start, expected: "\(what) in shortest form")
            case .tooLong: throw RecordCodecError(.malformedVarint, offset: start, expected: "\(what) in at most 10 bytes")
            }
        }
    }

    /// An unsigned varint in `range`.
    mutating func uvarint(_ what: String, in range: ClosedRange<UInt64>) throws(RecordCodecError) -> UInt64 {
        let start = offset
        let value = try uvarint(what)
        guard range.contains(value) else {
            throw RecordCodecError(value > range.upperBound ? .limitExceeded : .invalidValue, offset: start,
                                   expected: "\(what) in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A count in `0...limit` that also fits in the remaining bytes (each element takes at least
    /// `minimumElementBytes`), so a huge claimed count fails here, before any allocation.
    mutating func count(_ what: String, max limit: Int, minimumElementBytes: Int = 1) throws(RecordCodecError) -> Int {
        let start = offset
        let value = try uvarint(what)
        guard value <= UInt64(max(0, limit)) else {
            throw RecordCodecError(.limitExceeded, offset: start, expected: "\(what) <= \(limit)")
        }
        let count = Int(value)
        guard count <= remaining / max(1, minimumElementBytes) else {
            throw RecordCodecError(.truncated, offset: start, expected: "\(count) \(what) in \(remaining) remaining bytes")
        }
        return count
    }

    /// Zig-zag LEB128.
    mutating func svarint(_ what: String) throws(RecordCodecError) -> Int64 {
        LEB128.unzigzag(try uvarint(what))
    }

    /// Varint length (at most `maxBytes`) then that many bytes.
    mutating func lengthPrefixed(_ what: String, maxBytes: Int) throws(RecordCodecError) -> [UInt8] {
        let length = try count("\(what) length", max: maxBytes)
        let value = Array(bytes[offset..<(offset + length)])
        offset += length
        return value
    }

    /// Varint length (at most `maxBytes`) then valid UTF-8.
    mutating func string(_ what: String, maxBytes: Int) throws(RecordCodecError) -> String {
        let start = offset
        let raw = try lengthPrefixed(what, maxBytes: maxBytes)
        guard let value = String(validating: raw, as: UTF8.self) else {
            throw RecordCodecError(.invalidUTF8, offset: start, expected: "\(what) as UTF-8")
        }
        return value
    }

    /// Varint length (at most `maxBytes`) then valid UTF-8, kept as bytes (no normalization).
    mutating func text(_ what: String, maxBytes: Int) throws(RecordCodecError) -> UTF8Text {
        let start = offset
        let raw = try lengthPrefixed(what, maxBytes: maxBytes)
        guard String(validating: raw, as: UTF8.self) != nil else {
            throw RecordCodecError(.invalidUTF8, offset: start, expected: "\(what) as UTF-8")
        }
        return UTF8Text(validatedUTF8: raw)
    }
}
