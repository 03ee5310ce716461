/// Names of the files in a data directory. Numbers come from one counter recorded in the
/// manifest (`next_file_number`), so every file number is used once.
///
/// - `NNNNNN.wal`: write-ahead log number N
/// - `NNNNNN.seg`: segment (sorted table) number N
/// - `MANIFEST-NNNNNN`: manifest (edit log) number N
/// - `CURRENT`: the name of the live manifest followed by a newline
/// - `LOCK`: the owner's pid, held with flock
public enum FileNames {
    public static let current = "CURRENT"
    public static let lock = "LOCK"

    public enum Kind: Equatable, Sendable {
        case wal(UInt64)
        case segment(UInt64)
        case manifest(UInt64)
        case current
        case lock
        case temporary
    }

    public static func wal(_ n: UInt64) -> String { padded(n) + ".wal" }
    public static func segment(_ n: UInt64) -> String { padded(n) + ".seg" }
    public static func manifest(_ n: UInt64) -> String { "MANIFEST-" + padded(n) }

    static func padded(_ n: UInt64) -> String {
        let s = String(n)
        return s.count >= 6 ? s : String(repeating: "0", count: 6 - s.count) + s
    }

    /// Classifies a directory entry; nil for names the engine does not own.
    public static func parse(_ name: String) -> Kind? {
        if name == current { return .current }
        if name == lock { return .lock }
        if name.hasSuffix(".tmp") { return .temporary }
        if name.hasPrefix("MANIFEST-"), let n = UInt64(name.dropFirst(9)) { return .manifest(n) }
        if name.hasSuffix(".wal"), let n = UInt64(name.dropLast(4)) { return .wal(n) }
        if name.hasSuffix(".seg"), let n = UInt64(name.dropLast(4)) { return .segment(n) }
        return nil
    }
}
