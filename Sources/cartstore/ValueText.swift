import Foundation

/// How a raw value (bytes of a key) is shown on a terminal: as text when it is valid UTF-8,
/// else as lower-case hex.
enum ValueText {
    /// `bytes` as text when they are valid UTF-8 (`isHex` false), else as hex (`isHex` true).
    static func render(_ bytes: [UInt8]) -> (text: String, isHex: Bool) {
        if let text = String(validating: bytes, as: UTF8.self) { return (text: text, isHex: false) }
        return (text: hex(bytes), isHex: true)
    }

    /// `bytes` as lower-case hex digits, two per byte.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    /// The bytes of standard (or URL-safe) base64 `text`, padded or not; nil if it is not base64.
    static func base64Decoded(_ text: String) -> [UInt8]? {
        var normalized = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = normalized.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { normalized += String(repeating: "=", count: 4 - remainder) }
        guard let data = Data(base64Encoded: normalized) else { return nil }
        return Array(data)
    }

    /// A Unix time in milliseconds as an ISO 8601 UTC timestamp with milliseconds.
    static func timestamp(ms: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
