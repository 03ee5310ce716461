/// One problem found while inspecting or verifying a file: which file, where, and what.
///
/// `offset` is the byte offset inside `file` of the damaged structure (block, record, footer
/// field), or nil when the problem concerns the file as a whole (missing, wrong size).
///
/// Value type; `Sendable`.
public struct InspectionProblem: Sendable, Equatable, CustomStringConvertible {
    /// File name relative to the data directory (or the path given for a single file).
    public let file: String
    public let offset: Int?
    /// What is wrong, without the file name and offset (they are fields of their own).
    public let reason: String

    public init(file: String, offset: Int?, reason: String) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    /// A problem from an engine error; `context` (e.g. "data block 3") prefixes the reason, and
    /// `offset` is used when the error names none (an unsupported format version).
    public init(file: String, error: StorageError, context: String? = nil, offset: Int? = nil) {
        let split = Self.split(error)
        self.init(file: file, offset: split.offset ?? offset, reason: context.map { "\($0): \(split.reason)" } ?? split.reason)
    }

    public var description: String {
        if let offset { return "\(file) offset \(offset): \(reason)" }
        return "\(file): \(reason)"
    }

    /// The offset an error names (if any) and its message without the file path.
    static func split(_ error: StorageError) -> (offset: Int?, reason: String) {
        switch error {
        case let .checksumMismatch(_, offset, expected, actual):
            return (offset, "checksum mismatch: stored crc32 0x\(hex32(expected)), computed 0x\(hex32(actual))")
        case let .corruption(_, offset, reason):
            return (offset, reason)
        case let .unsupportedFormat(_, version, supported):
            return (nil, "format version \(version) is not supported (this build reads versions up to \(supported))")
        default:
            return (nil, error.description)
        }
    }
}

/// The last path component of `path` ("/d/000005.seg" → "000005.seg").
func baseName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    let name = String(path[path.index(after: slash)...])
    return name.isEmpty ? path : name
}
