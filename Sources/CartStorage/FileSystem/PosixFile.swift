#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An open file descriptor with positioned reads, appends and syncs: `PosixFileSystem`'s
/// readable and writable files. Every failure is a `StorageError.io` naming the path and errno.
///
/// Thread safety: `read` may be called concurrently from many threads. `append` is called by one
/// writer at a time; `sync` and `close` are serialized by the caller (the engine's `LogWriter`),
/// so that a descriptor is never closed while another thread uses it.
/// Ownership: the descriptor is closed by `close()` or, failing that, by `deinit`.
final class PosixFile: ReadableFile, WritableFile {
    let path: String
    private let descriptor: Atomic<Int32>
    private let appended: Atomic<Int>

    private init(path: String, fd: Int32, size: Int) {
        self.path = path
        descriptor = Atomic(fd)
        appended = Atomic(size)
    }

    deinit {
        let fd = descriptor.load(ordering: .relaxed)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Bytes appended through this handle plus the size at open.
    var size: Int { appended.load(ordering: .relaxed) }
    private var fd: Int32 { descriptor.load(ordering: .relaxed) }

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

    func append(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                appended.add(done, ordering: .relaxed)
                throw .io(operation: "write", path: path, errno: e)
            }
            done += n
        }
        appended.add(bytes.count, ordering: .relaxed)
    }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        guard count > 0 else { return [] }
        let fd = self.fd
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

    /// Closes the descriptor. An error from close(2) is not reported: data that matters was
    /// synced before, and the descriptor is released either way.
    func close() {
        let fd = descriptor.exchange(-1, ordering: .relaxed)
        if fd >= 0 { _ = Glibc.close(fd) }
    }
}
