#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with positioned reads, appends and syncs. Every failure is a
/// `StorageError.io` naming the path and errno.
///
/// Thread safety: `pread` may be called concurrently from many threads. `append`, `sync` and
/// `close` are called by one owner at a time (the engine serializes them).
/// Ownership: the descriptor is closed by `close()` or, failing that, by `deinit`.
final class PosixFile: @unchecked Sendable {
    let path: String
    private(set) var fd: Int32
    /// Bytes appended through this handle plus the size at open.
    private(set) var size: Int

    private init(path: String, fd: Int32, size: Int) {
        self.path = path
        self.fd = fd
        self.size = size
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Opens an existing file for reading.
    static func openForReading(_ path: String) throws(StorageError) -> PosixFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            _ = Glibc.close(fd)
            throw .io(operation: "fstat", path: path, errno: e)
        }
        return PosixFile(path: path, fd: fd, size: Int(st.st_size))
    }

    /// Creates a new file (failing if it exists) for appending.
    static func create(_ path: String) throws(StorageError) -> PosixFile {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "create", path: path, errno: errno) }
        return PosixFile(path: path, fd: fd, size: 0)
    }

    /// Writes all of `bytes` at the end of the file.
    func append(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
        size += bytes.count
    }

    func append(_ bytes: [UInt8]) throws(StorageError) {
        if bytes.isEmpty { return }
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) { try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads exactly `count` bytes at `offset`; a short read is a corruption error (the file is
    /// shorter than its metadata says).
    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: StorageError?
        // Uninitialized storage: every byte is written by pread or the read fails.
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = Glibc.pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io(operation: "pread", path: path, errno: errno)
                    break
                }
                if n == 0 {
                    failure = .corruption(file: path, offset: offset + done,
                                          reason: "unexpected end of file reading \(count) bytes at \(offset)")
                    break
                }
                done += n
            }
            if failure != nil { buffer.initialize(repeating: 0) }
            initialized = count
        }
        if let failure { throw failure }
        return out
    }

    /// fdatasync: the file's data (and the size needed to read it) reach stable storage.
    func sync() throws(StorageError) {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fdatasync", path: path, errno: errno)
        }
    }

    func close() throws(StorageError) {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw .io(operation: "close", path: path, errno: errno) }
    }
}

/// Directory and path helpers; each failure names the path.
enum FileSystem {
    static func readWholeFile(_ path: String) throws(StorageError) -> [UInt8] {
        let f = try PosixFile.openForReading(path)
        defer { try? f.close() }
        return try f.read(at: 0, count: f.size)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func createDirectory(_ path: String) throws(StorageError) {
        if isDirectory(path) { return }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .io(operation: "mkdir", path: path, errno: errno)
        }
    }

    static func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// fsync on the directory itself, so that created, renamed and removed names are durable.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open directory", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 { throw .io(operation: "fsync directory", path: path, errno: errno) }
    }

    static func rename(_ from: String, _ to: String) throws(StorageError) {
        if Glibc.rename(from, to) != 0 { throw .io(operation: "rename to \(to)", path: from, errno: errno) }
    }

    static func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(operation: "unlink", path: path, errno: errno) }
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(StorageError) {
        let tmp = path + ".tmp"
        try remove(tmp)
        let f = try PosixFile.create(tmp)
        try f.append(bytes)
        try f.sync()
        try f.close()
        try rename(tmp, path)
        try syncDirectory(directory)
    }
}
