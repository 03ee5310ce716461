/// Every error the storage engine reports. Each case carries enough context (file, byte offset,
/// key, errno) for an operator to find the problem without a debugger.
///
/// Errors that input, disk or the OS can cause are always reported through this type; the engine
/// never traps on them.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed. `path` is the file or directory involved.
    case io(operation: String, path: String, errno: Int32)
    /// Bytes on disk do not match their checksum. `offset` is the byte offset of the covered
    /// region (block, record or footer) inside `file`.
    case checksumMismatch(file: String, offset: Int, expected: UInt32, actual: UInt32)
    /// Bytes on disk are structurally invalid (bad length, unknown type, truncated structure).
    case corruption(file: String, offset: Int, reason: String)
    /// The file was written by an unknown (newer) format version; it is refused, not guessed at.
    case unsupportedFormat(file: String, version: UInt32, supported: UInt32)
    /// Another process (or another engine in this process) owns the data directory.
    case locked(directory: String, holderPID: Int32?)
    /// The caller passed something the engine does not accept; nothing was changed.
    case invalidArgument(String)
    /// The engine was closed; no further operations are accepted.
    case closed
    /// `operation` (a WAL append or sync, a flush, a compaction, a manifest write) failed with
    /// `cause`, possibly after some of its bytes reached the disk. The engine keeps every file,
    /// refuses writes and still serves reads; reopening the directory decides what survived.
    indirect case writesStopped(operation: String, cause: StorageError)

    public var description: String {
        switch self {
        case let .io(operation, path, code):
            return "I/O error: \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case let .checksumMismatch(file, offset, expected, actual):
            return "checksum mismatch in \(file) at offset \(offset): expected crc32 0x\(hex32(expected)), actual 0x\(hex32(actual))"
        case let .corruption(file, offset, reason):
            return "corruption in \(file) at offset \(offset): \(reason)"
        case let .unsupportedFormat(file, version, supported):
            return "\(file): format version \(version) is not supported (this build reads up to \(supported))"
        case let .locked(directory, pid):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "data directory \(directory) is locked by \(holder)"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case .closed:
            return "the storage engine is closed"
        case let .writesStopped(operation, cause):
            return "writes refused until the engine is reopened: \(operation) failed: \(cause)"
        }
    }

    /// True for errors that mean stored bytes are damaged (as opposed to I/O or usage errors).
    public var isCorruption: Bool {
        switch self {
        case .checksumMismatch, .corruption, .unsupportedFormat: return true
        case let .writesStopped(_, cause): return cause.isCorruption
        default: return false
        }
    }

    /// The underlying error: the cause of `writesStopped`, else the error itself.
    public var rootCause: StorageError {
        if case let .writesStopped(_, cause) = self { return cause.rootCause }
        return self
    }
}

@inline(__always)
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
