import ArgumentParser
import CartStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output helpers shared by the subcommands: standard error, column padding, and the mapping
/// of engine errors to exit codes (1: damage found, 2: the file could not be read).
enum DumpOutput {
    static let damageFound = ExitCode(1)
    static let unreadable = ExitCode(2)

    /// Writes `line` and a newline to standard error.
    static func printError(_ line: String) {
        let bytes = Array(("cartstore-dump: " + line + "\n").utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            done += n
        }
    }

    /// Reports `error` on standard error and returns the exit code to leave with.
    static func failure(_ error: StorageError) -> ExitCode {
        printError(error.description)
        return error.isCorruption ? damageFound : unreadable
    }

    /// `s` padded with spaces to `width` characters.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// `s` right-aligned in `width` characters.
    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
