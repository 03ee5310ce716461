#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A file system in memory that remembers what is durable, so that a simulated power loss
/// keeps exactly what a real disk would be allowed to keep (LevelDB's fault-injection `Env`,
/// Pebble's `vfs.MemFS` in strict mode).
///
/// Durability model:
/// - A file's bytes up to its last `sync` are durable. Bytes appended since are *pending*: a
///   power loss keeps a seeded prefix of them (possibly none), optionally followed by zeros up to
///   at most the pending length (the file's size reached the disk, its data did not).
/// - A directory's names as of its last `syncDirectory` are durable. Creates, renames and
///   removes since are *pending* operations: a power loss keeps a seeded prefix of them in order
///   (a journaling file system commits metadata in order), so an unsynced name may vanish and an
///   unsynced removal may be undone. `rename` is one operation: it is kept or lost whole.
/// - Directories themselves (`createDirectory`) are durable at once.
/// - A power loss also ends the "process": every handle opened before it fails with EIO from
///   then on, and every directory lock is released.
///
/// A file stays readable through open handles after its name is removed, as on POSIX.
///
/// Thread safety: every method may be called from any thread; one `Mutex` guards the state.
public final class MemoryFileSystem: FileSystem {
    /// What a power loss did, for the test's log.
    public struct PowerLossReport: Sendable, CustomStringConvertible {
        /// Pending directory operations lost (a prefix of each directory's was kept).
        public var directoryOperationsLost = 0
        public var directoryOperationsKept = 0
        /// Pending file bytes dropped, kept, and zeros written in place of pending bytes.
        public var bytesDropped = 0
        public var bytesKept = 0
        public var zeroBytesAdded = 0

        public var description: String {
            "directory operations kept \(directoryOperationsKept) lost \(directoryOperationsLost); pending bytes kept \(bytesKept) dropped \(bytesDropped), zero-filled \(zeroBytesAdded)"
        }
    }

    struct Inode {
        var data: [UInt8] = []
        /// `data[0..<syncedCount]` is durable.
        var syncedCount = 0
    }

    /// One pending directory operation: its name assignments (nil removes), applied together.
    struct DirectoryOperation {
        var assignments: [(name: String, inode: Int?)]
    }

    struct State {
        var inodes: [Int: Inode] = [:]
        var nextInode = 1
        var directories: Set<String> = []
        /// Current names: directory → name → inode.
        var names: [String: [String: Int]] = [:]
        /// Durable names as of each directory's last sync.
        var durableNames: [String: [String: Int]] = [:]
        var pending: [String: [DirectoryOperation]] = [:]
        /// Open handles per inode (an unnamed inode stays alive while one is open).
        var openHandles: [Int: Int] = [:]
        /// Directory → lock token.
        var locks: [String: Int] = [:]
        var nextLockToken = 1
        /// Bumped by every power loss; handles of an older generation are dead.
        var generation = 0
        var totalBytes = 0
        var capacityBytes: Int?
    }

    let state = Mutex(State())

    public init() {}

    /// Limits the bytes all files may hold; an append past it fails with ENOSPC (nil: unlimited).
    public func setCapacity(bytes: Int?) { state.withLock { $0.capacityBytes = bytes } }

    // MARK: - Paths

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    // MARK: - FileSystem

    public func createDirectory(_ path: String) throws(StorageError) {
        try state.withLock { (s: inout State) throws(StorageError) in
            let (parent, name) = Self.split(path)
            if s.names[parent]?[name] != nil { throw .io(operation: "mkdir", path: path, errno: EEXIST) }
            if s.directories.contains(path) { return }
            s.directories.insert(path)
            s.names[path] = [:]
            s.durableNames[path] = [:]
        }
    }

    public func isDirectory(_ path: String) -> Bool { state.withLock { $0.directories.contains(path) } }

    public func fileExists(_ path: String) -> Bool {
        state.withLock { s in
            let (dir, name) = Self.split(path)
            return s.directories.contains(path) || s.names[dir]?[name] != nil
        }
    }

    public func listDirectory(_ path: String) throws(StorageError) -> [String] {
        try state.withLock { (s: inout State) throws(StorageError) -> [String] in
            guard s.directories.contains(path), let names = s.names[path] else {
                throw .io(operation: "opendir", path: path, errno: ENOENT)
            }
            let subdirectories = s.directories.compactMap { d -> String? in
                let (parent, name) = Self.split(d)
                return parent == path ? name : nil
            }
            return (Array(names.keys) + subdirectories).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }

    public func openForReading(_ path: String) throws(StorageError) -> any ReadableFile {
        let (dir, name) = Self.split(path)
        let opened = try state.withLock { (s: inout State) throws(StorageError) -> (inode: Int, size: Int, generation: Int) in
            guard let inode = s.names[dir]?[name], let node = s.inodes[inode] else {
                throw .io(operation: "open", path: path, errno: ENOENT)
            }
            s.openHandles[inode, default: 0] += 1
            return (inode, node.data.count, s.generation)
        }
        return MemoryReadableFile(fileSystem: self, path: path, inode: opened.inode, size: opened.size, generation: opened.generation)
    }

    public func createFile(_ path: String) throws(StorageError) -> any WritableFile {
        let (dir, name) = Self.split(path)
        let created = try state.withLock { (s: inout State) throws(StorageError) -> (inode: Int, generation: Int) in
            guard s.directories.contains(dir) else { throw .io(operation: "create", path: path, errno: ENOENT) }
            guard s.names[dir]?[name] == nil, !s.directories.contains(path) else {
                throw .io(operation: "create", path: path, errno: EEXIST)
            }
            let inode = s.nextInode
            s.nextInode += 1
            s.inodes[inode] = Inode()
            s.names[dir, default: [:]][name] = inode
            s.pending[dir, default: []].append(DirectoryOperation(assignments: [(name, inode)]))
            s.openHandles[inode, default: 0] += 1
            return (inode, s.generation)
        }
        return MemoryWritableFile(fileSystem: self, path: path, inode: created.inode, generation: created.generation)
    }

    public func removeFile(_ path: String) throws(StorageError) {
        let (dir, name) = Self.split(path)
        state.withLock { s in
            guard s.names[dir]?[name] != nil else { return }
            s.names[dir]?[name] = nil
            s.pending[dir, default: []].append(DirectoryOperation(assignments: [(name, nil)]))
            Self.collect(&s)
        }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        let (dir, name) = Self.split(from)
        let (toDir, toName) = Self.split(to)
        try state.withLock { (s: inout State) throws(StorageError) in
            guard dir == toDir else { throw .io(operation: "rename to \(to)", path: from, errno: EXDEV) }
            guard let inode = s.names[dir]?[name] else { throw .io(operation: "rename to \(to)", path: from, errno: ENOENT) }
            s.names[dir]?[name] = nil
            s.names[dir]?[toName] = inode
            s.pending[dir, default: []].append(DirectoryOperation(assignments: [(name, nil), (toName, inode)]))
            Self.collect(&s)
        }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        try state.withLock { (s: inout State) throws(StorageError) in
            guard s.directories.contains(path) else { throw .io(operation: "open directory", path: path, errno: ENOENT) }
            s.durableNames[path] = s.names[path] ?? [:]
            s.pending[path] = []
            Self.collect(&s)
        }
    }

    public func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock {
        let lock = try state.withLock { (s: inout State) throws(StorageError) -> (token: Int, generation: Int) in
            guard s.directories.contains(path) else { throw .io(operation: "open", path: path + "/" + FileNames.lock, errno: ENOENT) }
            if s.locks[path] != nil { throw .locked(directory: path, holderPID: nil) }
            let token = s.nextLockToken
            s.nextLockToken += 1
            s.locks[path] = token
            return (token, s.generation)
        }
        return MemoryDirectoryLock(fileSystem: self, directory: path, token: lock.token)
    }

    // MARK: - Power loss

    /// Simulates a power loss: keeps what is durable, a seeded part of what is pending (see the
    /// type's doc), kills every open handle and releases every lock. Deterministic for a seed.
    @discardableResult
    public func powerLoss(seed: UInt64) -> PowerLossReport {
        var rng = SplitMix64(seed: seed)
        var report = PowerLossReport()
        state.withLock { s in
            s.generation += 1
            s.locks = [:]
            s.openHandles = [:]
            for dir in s.pending.keys.sorted() {
                let ops = s.pending[dir] ?? []
                let keep = ops.isEmpty ? 0 : rng.below(ops.count + 1)
                var names = s.durableNames[dir] ?? [:]
                for op in ops.prefix(keep) {
                    for (name, inode) in op.assignments { names[name] = inode }
                }
                report.directoryOperationsKept += keep
                report.directoryOperationsLost += ops.count - keep
                s.names[dir] = names
                s.durableNames[dir] = names
                s.pending[dir] = []
            }
            for id in s.inodes.keys.sorted() {
                guard var node = s.inodes[id] else { continue }
                let pending = node.data.count - node.syncedCount
                if pending > 0 {
                    // Half of the time nothing pending survives; otherwise a random prefix, and
                    // sometimes zeros in place of (part of) the rest.
                    let kept = rng.below(2) == 0 ? 0 : rng.below(pending + 1)
                    let zeros = kept < pending && rng.below(4) == 0 ? 1 + rng.below(pending - kept) : 0
                    node.data.removeLast(pending - kept)
                    node.data.append(contentsOf: repeatElement(0, count: zeros))
                    report.bytesKept += kept
                    report.bytesDropped += pending - kept
                    report.zeroBytesAdded += zeros
                }
                node.syncedCount = node.data.count
                s.inodes[id] = node
            }
            Self.collect(&s)
            s.totalBytes = s.inodes.values.reduce(0) { $0 + $1.data.count }
        }
        return report
    }

    /// Drops inodes no name (current, durable or pending) and no open handle can reach.
    static func collect(_ s: inout State) {
        var reachable = Set(s.openHandles.keys)
        for names in s.names.values { reachable.formUnion(names.values) }
        for names in s.durableNames.values { reachable.formUnion(names.values) }
        for ops in s.pending.values {
            for op in ops { for (_, inode) in op.assignments { if let inode { reachable.insert(inode) } } }
        }
        for id in s.inodes.keys where !reachable.contains(id) {
            s.totalBytes -= s.inodes[id]?.data.count ?? 0
            s.inodes[id] = nil
        }
    }

    // MARK: - Inspection (tests)

    /// The current content of `path`, or nil if no such file.
    public func contents(of path: String) -> [UInt8]? {
        let (dir, name) = Self.split(path)
        return state.withLock { s in s.names[dir]?[name].flatMap { s.inodes[$0]?.data } }
    }

    /// Replaces the content of an existing file, durably (tests that damage bytes on "disk").
    public func overwrite(_ path: String, with bytes: [UInt8]) throws(StorageError) {
        let (dir, name) = Self.split(path)
        try state.withLock { (s: inout State) throws(StorageError) in
            guard let id = s.names[dir]?[name], var node = s.inodes[id] else {
                throw .io(operation: "open", path: path, errno: ENOENT)
            }
            s.totalBytes += bytes.count - node.data.count
            node.data = bytes
            node.syncedCount = bytes.count
            s.inodes[id] = node
        }
    }

    // MARK: - Handle operations

    func released(inode: Int, generation: Int) {
        state.withLock { s in
            guard s.generation == generation, let n = s.openHandles[inode] else { return }
            s.openHandles[inode] = n > 1 ? n - 1 : nil
            if n == 1 { Self.collect(&s) }
        }
    }

    func read(inode: Int, generation: Int, path: String, at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        try state.withLock { (s: inout State) throws(StorageError) -> [UInt8] in
            guard s.generation == generation, let node = s.inodes[inode] else {
                throw .io(operation: "pread", path: path, errno: EIO)
            }
            guard offset >= 0, count >= 0, offset <= node.data.count, count <= node.data.count - offset else {
                throw .corruption(file: path, offset: min(max(offset, 0), node.data.count),
                                  reason: "unexpected end of file reading \(count) bytes at \(offset)")
            }
            return Array(node.data[offset..<(offset + count)])
        }
    }

    func append(inode: Int, generation: Int, path: String, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try state.withLock { (s: inout State) throws(StorageError) in
            guard s.generation == generation, s.inodes[inode] != nil else { throw .io(operation: "write", path: path, errno: EIO) }
            if let cap = s.capacityBytes, s.totalBytes + bytes.count > cap {
                throw .io(operation: "write", path: path, errno: ENOSPC)
            }
            s.inodes[inode]?.data.append(contentsOf: bytes)
            s.totalBytes += bytes.count
        }
    }

    func sync(inode: Int, generation: Int, path: String) throws(StorageError) {
        try state.withLock { (s: inout State) throws(StorageError) in
            guard s.generation == generation, let node = s.inodes[inode] else {
                throw .io(operation: "fdatasync", path: path, errno: EIO)
            }
            s.inodes[inode]?.syncedCount = node.data.count
        }
    }

    func size(inode: Int) -> Int { state.withLock { $0.inodes[inode]?.data.count ?? 0 } }

    func unlock(directory: String, token: Int) {
        state.withLock { s in
            if s.locks[directory] == token { s.locks[directory] = nil }
        }
    }
}

/// A readable handle of a `MemoryFileSystem` file.
final class MemoryReadableFile: ReadableFile {
    let fileSystem: MemoryFileSystem
    let path: String
    let inode: Int
    let size: Int
    let generation: Int
    private let closed = Atomic(false)

    init(fileSystem: MemoryFileSystem, path: String, inode: Int, size: Int, generation: Int) {
        self.fileSystem = fileSystem
        self.path = path
        self.inode = inode
        self.size = size
        self.generation = generation
    }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        if closed.load(ordering: .relaxed) { throw .io(operation: "pread", path: path, errno: EBADF) }
        guard count <= size - offset else {
            throw .corruption(file: path, offset: min(max(offset, 0), size), reason: "unexpected end of file reading \(count) bytes at \(offset)")
        }
        return try fileSystem.read(inode: inode, generation: generation, path: path, at: offset, count: count)
    }

    func close() {
        if !closed.exchange(true, ordering: .relaxed) { fileSystem.released(inode: inode, generation: generation) }
    }

    deinit { close() }
}

/// A writable handle of a `MemoryFileSystem` file.
final class MemoryWritableFile: WritableFile {
    let fileSystem: MemoryFileSystem
    let path: String
    let inode: Int
    let generation: Int
    private let closed = Atomic(false)

    init(fileSystem: MemoryFileSystem, path: String, inode: Int, generation: Int) {
        self.fileSystem = fileSystem
        self.path = path
        self.inode = inode
        self.generation = generation
    }

    var size: Int { fileSystem.size(inode: inode) }

    func append(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        if closed.load(ordering: .relaxed) { throw .io(operation: "write", path: path, errno: EBADF) }
        try fileSystem.append(inode: inode, generation: generation, path: path, bytes)
    }

    func sync() throws(StorageError) {
        if closed.load(ordering: .relaxed) { throw .io(operation: "fdatasync", path: path, errno: EBADF) }
        try fileSystem.sync(inode: inode, generation: generation, path: path)
    }

    func close() {
        if !closed.exchange(true, ordering: .relaxed) { fileSystem.released(inode: inode, generation: generation) }
    }

    deinit { close() }
}

/// A directory lock of a `MemoryFileSystem` (released by `release`, a power loss, or deinit).
final class MemoryDirectoryLock: DirectoryLock {
    let fileSystem: MemoryFileSystem
    let directory: String
    let token: Int
    private let released = Atomic(false)

    init(fileSystem: MemoryFileSystem, directory: String, token: Int) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.token = token
    }

    func release() {
        if !released.exchange(true, ordering: .relaxed) { fileSystem.unlock(directory: directory, token: token) }
    }

    deinit { release() }
}
