import CartStorage

/// Renders keys and values for people: as a quoted string when the bytes are printable UTF-8,
/// as `0x…` hex otherwise (or always, with `--hex`). Values longer than `valueBytesMax` are cut
/// with a note of how much was left out.
struct ByteFormatter {
    var forceHex = false
    /// 0: print values whole.
    var valueBytesMax = 0

    func key(_ bytes: [UInt8]) -> String { render(bytes[...]) }

    func value(_ bytes: [UInt8]) -> String {
        guard valueBytesMax > 0, bytes.count > valueBytesMax else { return render(bytes[...]) }
        return render(bytes.prefix(valueBytesMax)) + "… (\(bytes.count) bytes)"
    }

    /// `"user key" @seq KIND`.
    func key(_ k: InspectedKey) -> String { "\(key(k.userKey)) @\(k.sequence) \(k.kindName)" }

    /// An encoded internal key, or its bytes in hex if it is too short to hold a trailer.
    func internalKey(_ encoded: [UInt8]) -> String {
        guard let k = InspectedKey(encoded: encoded) else { return "\(Self.hex(encoded[...])) (not an internal key)" }
        return key(k)
    }

    func entry(_ e: InspectedEntry) -> String {
        e.key.kind == .deletion ? key(e.key) : "\(key(e.key)) => \(value(e.value))"
    }

    private func render(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.isEmpty { return "\"\"" }
        if !forceHex, let text = Self.printable(bytes) { return text }
        return Self.hex(bytes)
    }

    /// The bytes as a quoted string if they are valid UTF-8 without control characters.
    static func printable(_ bytes: ArraySlice<UInt8>) -> String? {
        guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                return nil
            default:
                if scalar == "\"" || scalar == "\\" { out.append("\\") }
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = Array("0x".utf8)
        out.reserveCapacity(2 + 2 * bytes.count)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex32(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - s.count)) + s
    }
}
