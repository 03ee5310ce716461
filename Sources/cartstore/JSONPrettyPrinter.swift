/// Re-indents JSON text without parsing it into values, so keys keep the server's order and
/// numbers and strings their exact spelling (escapes included): each member and element on its
/// own line, indented by two spaces, a space after each colon, empty `{}` and `[]` kept whole.
enum JSONPrettyPrinter {
    /// `bytes` pretty-printed, or nil when they are not a well-nested JSON text (unbalanced
    /// brackets, an unterminated string, or nothing but whitespace).
    static func format(_ bytes: [UInt8]) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var stack: [UInt8] = []
        var inString = false
        var escaped = false
        var sawValue = false
        var index = 0

        func newline(_ depth: Int) {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
        }

        /// The next byte after `position` that is not JSON whitespace.
        func nextSignificant(after position: Int) -> UInt8? {
            var i = position + 1
            while i < bytes.count {
                if !Self.isWhitespace(bytes[i]) { return bytes[i] }
                i += 1
            }
            return nil
        }

        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                sawValue = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                sawValue = true
                let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                out.append(byte)
                if nextSignificant(after: index) == close {
                    // Empty object or array: keep it on one line and skip to the closer.
                    var i = index + 1
                    while bytes[i] != close { i += 1 }
                    out.append(close)
                    index = i
                } else {
                    stack.append(close)
                    newline(stack.count)
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.last == byte else { return nil }
                stack.removeLast()
                newline(stack.count)
                out.append(byte)
            case UInt8(ascii: ","):
                guard !stack.isEmpty else { return nil }
                out.append(byte)
                newline(stack.count)
            case UInt8(ascii: ":"):
                out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            default:
                if !Self.isWhitespace(byte) {
                    sawValue = true
                    out.append(byte)
                }
            }
            index += 1
        }
        guard !inString, stack.isEmpty, sawValue else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
