/// Just enough JSON for `cartstore-bench http`, without Foundation: writing strings and
/// numbers, and finding a key's scalar value in a server's answer (no full parse: the answers
/// read are the API's own error bodies and `/admin/status`).
enum JSONText {
    /// `s` as a JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `x` with `digits` decimals, or `null` if not finite.
    static func number(_ x: Double, _ digits: Int) -> String {
        x.isFinite ? Format.fixed(x, digits) : "null"
    }

    /// `{"k":v,...}` from pairs whose values are JSON already, in the given order.
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// The first index at or after `start` where `pattern` occurs in `bytes`.
    static func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard !pattern.isEmpty, bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        var i = max(0, start)
        while i <= bytes.count - pattern.count {
            if bytes[i] == pattern[0] {
                var j = 1
                while j < pattern.count && bytes[i + j] == pattern[j] { j += 1 }
                if j == pattern.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// The index of the first byte of the value of the first `"key":` at or after `start`.
    static func valueIndex(forKey key: String, in bytes: [UInt8], from start: Int = 0) -> Int? {
        let pattern = Array(("\"" + key + "\"").utf8)
        var from = start
        while let at = firstIndex(of: pattern, in: bytes, from: from) {
            var i = at + pattern.count
            while i < bytes.count && isSpace(bytes[i]) { i += 1 }
            if i < bytes.count && bytes[i] == UInt8(ascii: ":") {
                i += 1
                while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                return i < bytes.count ? i : nil
            }
            from = at + 1 // the key text appeared as a value: look further
        }
        return nil
    }

    /// The string value of the first `"key"` at or after `start` (escapes are not decoded;
    /// the values read are snake_case kinds).
    static func stringValue(forKey key: String, in bytes: [UInt8], from start: Int = 0) -> String? {
        guard let i = valueIndex(forKey: key, in: bytes, from: start), bytes[i] == UInt8(ascii: "\"") else { return nil }
        var end = i + 1
        while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
        guard end < bytes.count else { return nil }
        return String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
    }

    /// The non-negative integer value of the first `"key"` at or after `start`.
    static func unsignedValue(forKey key: String, in bytes: [UInt8], from start: Int = 0) -> UInt64? {
        guard let i = valueIndex(forKey: key, in: bytes, from: start) else { return nil }
        var end = i
        while end < bytes.count && bytes[end] >= UInt8(ascii: "0") && bytes[end] <= UInt8(ascii: "9") { end += 1 }
        guard end > i else { return nil }
        return UInt64(String(decoding: bytes[i..<end], as: UTF8.self))
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\t")
    }
}
