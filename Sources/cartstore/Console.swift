import Foundation

/// Writing to standard output and standard error.
enum Console {
    /// Writes `line` and a newline to standard output.
    static func out(_ line: String) {
        print(line)
    }

    /// Writes `line` and a newline to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes `lines` to standard error, one per line.
    static func error(lines: [String]) {
        for line in lines { error(line) }
    }

    /// Prints a response body for `--json`: pretty-printed when it is JSON, else as text.
    static func json(_ body: [UInt8]) {
        out(JSONPrettyPrinter.format(body) ?? String(decoding: body, as: UTF8.self))
    }
}
