/// Percent-encoding of URL path segments and query components for the CartStore HTTP API.
///
/// Every byte of the UTF-8 form outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is
/// written as `%XX` with upper-case hex digits, so `/`, `?`, `#`, `%`, spaces and non-ASCII
/// characters all stay inside the one segment they belong to.
enum PathEncoding {
    /// `value` encoded for use as a single path segment or query component.
    static func encode(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `items` as a query string without the leading `?` (empty when there are none).
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
