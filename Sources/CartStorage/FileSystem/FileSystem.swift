/// The file-system seam (LevelDB's `Env`, Pebble's `vfs.FS`): every file operation of the engine
/// goes through one of these, so that tests and the cluster simulator can run the engine on an
/// in-memory disk, cut its power, and fail chosen operations.
///
/// Implementations: `PosixFileSystem` (the real one), `MemoryFileSystem` (in memory, with
/// durability tracked so that `powerLoss` keeps only what was synced), and
/// `FaultInjectingFileSystem` (wraps another and fails chosen operations).
///
/// Contract every implementation keeps, and the engine relies on:
/// - Files are created new (`createFile` fails if the name exists) and only ever appended to.
/// - Data appended to a file is durable once `WritableFile.sync` returns; a name created,
///   renamed or removed is durable once `syncDirectory` of its directory returns. Nothing else
///   is promised after a power loss.
/// - A file stays readable through handles opened before it was removed (POSIX semantics).
/// - `rename` replaces the target atomically. When it (or any mutating call) throws, the
///   engine assumes nothing about whether it happened.
/// - Every failure is a `StorageError` naming the operation, the path and the errno.
///
/// Thread safety: every method may be called from any thread.
public protocol FileSystem: Sendable {
    /// Creates `path` (one level) if it does not exist.
    func createDirectory(_ path: String) throws(StorageError)
    func isDirectory(_ path: String) -> Bool
    func fileExists(_ path: String) -> Bool
    /// The names in directory `path` (not `.` and `..`), sorted bytewise.
    func listDirectory(_ path: String) throws(StorageError) -> [String]
    /// Opens an existing file for positioned reads.
    func openForReading(_ path: String) throws(StorageError) -> any ReadableFile
    /// Creates a new, empty file for appending; fails if the name exists.
    func createFile(_ path: String) throws(StorageError) -> any WritableFile
    /// Removes a name; removing a name that does not exist succeeds.
    func removeFile(_ path: String) throws(StorageError)
    /// Renames `from` to `to`, replacing `to` atomically if it exists.
    func rename(_ from: String, to: String) throws(StorageError)
    /// Makes the names created, renamed and removed in directory `path` durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// Takes the exclusive lock of a data directory, failing at once with
    /// `StorageError.locked` if another engine (in this or another process) holds it.
    func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock
}

/// A file open for positioned reads. Its `size` is fixed when it is opened.
///
/// Thread safety: `read` may be called from many threads at once.
public protocol ReadableFile: AnyObject, Sendable {
    var path: String { get }
    var size: Int { get }
    /// Exactly `count` bytes at `offset`. A file shorter than that is a `corruption` error (its
    /// metadata promised more bytes than it holds).
    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8]
    /// Releases the handle. Idempotent; later reads fail.
    func close()
}

/// A file open for appending.
///
/// Thread safety: one writer at a time calls `append`; `sync` and `close` may come from another
/// thread, and the caller serializes them with each other (the engine's `LogWriter` does).
public protocol WritableFile: AnyObject, Sendable {
    var path: String { get }
    /// Bytes in the file: its size at creation (0) plus everything appended.
    var size: Int { get }
    /// Appends all of `bytes`. When it throws, any prefix of them may be in the file.
    func append(_ bytes: UnsafeRawBufferPointer) throws(StorageError)
    /// fdatasync: everything appended so far is durable when this returns. When it throws,
    /// nothing is known about what reached the disk.
    func sync() throws(StorageError)
    /// Releases the handle without syncing. Idempotent. Nothing is reported: what must be
    /// durable was synced before.
    func close()
}

/// A held data-directory lock.
public protocol DirectoryLock: AnyObject, Sendable {
    /// Releases the lock. Idempotent.
    func release()
}

extension WritableFile {
    /// Appends all of `bytes`.
    func append(_ bytes: [UInt8]) throws(StorageError) {
        if bytes.isEmpty { return }
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) { try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

extension FileSystem {
    /// The whole content of the file at `path`.
    func readWholeFile(_ path: String) throws(StorageError) -> [UInt8] {
        let f = try openForReading(path)
        defer { f.close() }
        return try f.read(at: 0, count: f.size)
    }

    /// Replaces `path` with `bytes` atomically: a temporary file, sync, rename, sync of the
    /// directory. If it throws after the rename, the new content may or may not be durable.
    func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(StorageError) -> Void {
        let tmp = path + ".tmp"
        try removeFile(tmp)
        let f = try createFile(tmp)
        do {
            try f.append(bytes)
            try f.sync()
            f.close()
        } catch {
            f.close()
            throw error
        }
        try rename(tmp, to: path)
        try syncDirectory(directory)
    }
}
