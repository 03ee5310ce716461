import Foundation

/// A child process with its stdout read line by line; always killed and reaped by `stop()`.
final class ChildProcess {
    let process = Process()
    private let out = Pipe()
    private var buffer: [UInt8] = []
    private var eof = false

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// The next line, or nil at end of output or after `deadline`.
    func readLine(deadline: Date) -> String? {
        while true {
            if let i = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<i], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return line
            }
            if eof || Date() > deadline { return nil }
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { eof = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    func kill(_ signal: Int32 = SIGKILL) { _ = Foundation.kill(pid, signal) }

    /// Kills (if still running) and reaps the child.
    func stop() {
        if process.isRunning { kill() }
        process.waitUntilExit()
    }
}
