import CartStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process and directory measurements: peak RSS, bytes on disk, and wiping a data directory.
enum SystemProbe {
    /// Peak resident set size in bytes (`VmHWM` of /proc/self/status), nil where unavailable.
    static func peakResidentBytes() -> UInt64? {
        guard let text = readSmallFile("/proc/self/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = UInt64(fields[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Names in `directory` (without `.` and `..`); empty if it does not exist.
    static func listDirectory(_ directory: String) throws(BenchError) -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw .io(path: directory, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Sum of the sizes of the regular files in `directory` (the engine keeps no subdirectories).
    static func bytesOnDisk(_ directory: String) throws(BenchError) -> UInt64 {
        var total: UInt64 = 0
        for name in try listDirectory(directory) {
            var st = stat()
            if stat(directory + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                total += UInt64(st.st_size)
            }
        }
        return total
    }

    /// Deletes the engine's files in `directory`. Refuses (deleting nothing) if it holds any
    /// file the engine does not own, so a mistyped `--db` cannot destroy unrelated data.
    static func wipeDataDirectory(_ directory: String) throws(BenchError) {
        let names = try listDirectory(directory)
        let foreign = names.filter { FileNames.parse($0) == nil }
        guard foreign.isEmpty else { throw .unsafeDirectory(path: directory, foreign: foreign.sorted()) }
        for name in names where unlink(directory + "/" + name) != 0 && errno != ENOENT {
            throw .io(path: directory + "/" + name, errno: errno)
        }
    }
}
