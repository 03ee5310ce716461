#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Wraps another file system and fails chosen operations, or all of them once the power is cut:
/// the engine's fault tests and the cluster simulator's node crashes run through it, usually
/// over a `MemoryFileSystem` (whose `powerLoss` then decides what survived).
///
/// A `Fault` names an operation kind, optionally a path fragment, how many matching operations
/// pass first, how many then fail, the errno, and what the failed operation did before failing
/// (nothing, everything, or for a write a prefix of its bytes): an error after the bytes may have
/// reached the disk is exactly the case an engine must treat as "outcome unknown".
///
/// `cutPower(afterOperations:)` makes every operation from then on fail with EIO, as if the
/// machine died; a crashed node is this plus `MemoryFileSystem.powerLoss`, then a fresh
/// `FaultInjectingFileSystem` over the same memory for the restarted process.
///
/// Thread safety: every method may be called from any thread. Which operation is "the Nth" is
/// deterministic only if the engine's file operations are (one thread, manual background mode).
public final class FaultInjectingFileSystem: FileSystem {
    /// Kinds of file-system operations, as counted and matched by faults.
    public enum Operation: String, CaseIterable, Sendable {
        case createDirectory, list, lock, open, read, create, write, sync, remove, rename, syncDirectory
    }

    /// One injected fault.
    public struct Fault: Sendable, CustomStringConvertible {
        /// What the failing operation does before it reports its error.
        public enum Effect: String, Sendable {
            /// Nothing: the operation did not happen.
            case none
            /// All of it: the operation took effect, then failed (a sync that synced, a rename
            /// that renamed, a write that wrote everything).
            case applied
            /// A write only: the first half of its bytes reach the file.
            case partial
        }

        public var operation: Operation
        /// Only operations whose path contains this (nil: any path).
        public var pathContains: String?
        /// Matching operations that succeed before the first failure.
        public var skip: Int
        /// Failures before the fault is spent (nil: until `clearFaults`).
        public var times: Int?
        public var errno: Int32
        public var effect: Effect

        public init(_ operation: Operation, pathContains: String? = nil, skip: Int = 0, times: Int? = 1,
                    errno: Int32 = EIO, effect: Effect = .none) {
            self.operation = operation
            self.pathContains = pathContains
            self.skip = skip
            self.times = times
            self.errno = errno
            self.effect = effect
        }

        public var description: String {
            "\(operation)\(pathContains.map { " on *\($0)*" } ?? "") after \(skip) passing, \(times.map { "\($0)×" } ?? "always"), errno \(errno), effect \(effect)"
        }
    }

    /// A fault that fired.
    public struct Injection: Sendable, CustomStringConvertible {
        public let operation: Operation
        public let path: String
        public let errno: Int32
        public let effect: Fault.Effect
        /// Index of the operation among all operations of this file system (from 1).
        public let operationIndex: Int

        public var description: String { "#\(operationIndex) \(operation) \(path): errno \(errno), effect \(effect)" }
    }

    struct State {
        var faults: [Fault] = []
        var operations = 0
        var counts: [Operation: Int] = [:]
        /// Operations with an index above this fail (the power is cut).
        var powerCutAfter: Int?
        var injections: [Injection] = []
    }

    public let base: any FileSystem
    private let state = Mutex(State())
    /// Boxed: a bare closure in a `Mutex` gains reabstraction thunks at every `withLock`.
    private struct SyncHook: Sendable { let call: @Sendable (String) -> Void }
    private let syncHook = Mutex<SyncHook?>(nil)

    public init(wrapping base: any FileSystem) {
        self.base = base
    }

    // MARK: - Control

    public func inject(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

    public func clearFaults() { state.withLock { $0.faults = [] } }

    /// Every operation after the next `afterOperations` fails with EIO, for good.
    public func cutPower(afterOperations: Int = 0) {
        state.withLock { $0.powerCutAfter = $0.operations + afterOperations }
    }

    public var isPowerCut: Bool { state.withLock { s in s.powerCutAfter.map { s.operations > $0 } ?? false } }

    /// Operations seen so far (all kinds).
    public var operationCount: Int { state.withLock { $0.operations } }

    /// Operations seen so far of one kind.
    public func count(_ operation: Operation) -> Int { state.withLock { $0.counts[operation] ?? 0 } }

    /// Every fault that fired, in order (not counting failures after a power cut).
    public var injections: [Injection] { state.withLock { $0.injections } }

    /// Called with the path before every file or directory sync (nil removes it): tests block or
    /// slow syncs there to prove that nothing else waits for them.
    public func setSyncHook(_ hook: (@Sendable (String) -> Void)?) { syncHook.withLock { $0 = hook.map(SyncHook.init) } }

    /// Counts the operation; returns the fault to apply, if any.
    func check(_ operation: Operation, _ path: String) -> (errno: Int32, effect: Fault.Effect)? {
        state.withLock { s -> (errno: Int32, effect: Fault.Effect)? in
            s.operations += 1
            s.counts[operation, default: 0] += 1
            if let cut = s.powerCutAfter, s.operations > cut { return (EIO, .none) }
            for i in s.faults.indices where s.faults[i].operation == operation {
                if let fragment = s.faults[i].pathContains, !path.contains(fragment) { continue }
                if s.faults[i].skip > 0 {
                    s.faults[i].skip -= 1
                    continue
                }
                if let t = s.faults[i].times {
                    if t <= 0 { continue }
                    s.faults[i].times = t - 1
                }
                let f = s.faults[i]
                s.injections.append(Injection(operation: operation, path: path, errno: f.errno, effect: f.effect,
                                              operationIndex: s.operations))
                return (f.errno, f.effect)
            }
            return nil
        }
    }

    func runSyncHook(_ path: String) {
        if let hook = syncHook.withLock({ $0 }) { hook.call(path) }
    }

    static func failure(_ operation: Operation, _ path: String, _ errno: Int32) -> StorageError {
        let name: String
        switch operation {
        case .createDirectory: name = "mkdir"
        case .list: name = "opendir"
        case .lock: name = "flock"
        case .open: name = "open"
        case .read: name = "pread"
        case .create: name = "create"
        case .write: name = "write"
        case .sync: name = "fdatasync"
        case .remove: name = "unlink"
        case .rename: name = "rename"
        case .syncDirectory: name = "fsync directory"
        }
        return .io(operation: name, path: path, errno: errno)
    }

    /// Runs `body` unless a fault says otherwise; `.applied` runs it and then fails.
    private func perform<R>(_ operation: Operation, _ path: String, _ body: () throws(StorageError) -> R) throws(StorageError) -> R {
        guard let fault = check(operation, path) else { return try body() }
        if fault.effect != .none { _ = try? body() }
        throw Self.failure(operation, path, fault.errno)
    }

    // MARK: - FileSystem

    public func createDirectory(_ path: String) throws(StorageError) {
        try perform(.createDirectory, path) { () throws(StorageError) in try base.createDirectory(path) }
    }

    public func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }

    public func fileExists(_ path: String) -> Bool { base.fileExists(path) }

    public func listDirectory(_ path: String) throws(StorageError) -> [String] {
        try perform(.list, path) { () throws(StorageError) in try base.listDirectory(path) }
    }

    public func openForReading(_ path: String) throws(StorageError) -> any ReadableFile {
        let file = try perform(.open, path) { () throws(StorageError) in try base.openForReading(path) }
        return FaultReadableFile(base: file, faults: self)
    }

    public func createFile(_ path: String) throws(StorageError) -> any WritableFile {
        if let fault = check(.create, path) {
            if fault.effect != .none, let f = try? base.createFile(path) { f.close() }
            throw Self.failure(.create, path, fault.errno)
        }
        return FaultWritableFile(base: try base.createFile(path), faults: self)
    }

    public func removeFile(_ path: String) throws(StorageError) {
        try perform(.remove, path) { () throws(StorageError) in try base.removeFile(path) }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        try perform(.rename, from) { () throws(StorageError) in try base.rename(from, to: to) }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        runSyncHook(path)
        try perform(.syncDirectory, path) { () throws(StorageError) in try base.syncDirectory(path) }
    }

    public func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock {
        try perform(.lock, path) { () throws(StorageError) in try base.lockDirectory(path) }
    }
}

/// A readable file whose reads go through the faults.
final class FaultReadableFile: ReadableFile {
    let base: any ReadableFile
    let faults: FaultInjectingFileSystem

    init(base: any ReadableFile, faults: FaultInjectingFileSystem) {
        self.base = base
        self.faults = faults
    }

    var path: String { base.path }
    var size: Int { base.size }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        if let fault = faults.check(.read, path) { throw FaultInjectingFileSystem.failure(.read, path, fault.errno) }
        return try base.read(at: offset, count: count)
    }

    func close() { base.close() }
}

/// A writable file whose appends and syncs go through the faults.
final class FaultWritableFile: WritableFile {
    let base: any WritableFile
    let faults: FaultInjectingFileSystem

    init(base: any WritableFile, faults: FaultInjectingFileSystem) {
        self.base = base
        self.faults = faults
    }

    var path: String { base.path }
    var size: Int { base.size }

    func append(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard let fault = faults.check(.write, path) else { return try base.append(bytes) }
        switch fault.effect {
        case .none: break
        case .applied: try? base.append(bytes)
        case .partial: try? base.append(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count / 2)]))
        }
        throw FaultInjectingFileSystem.failure(.write, path, fault.errno)
    }

    func sync() throws(StorageError) {
        faults.runSyncHook(path)
        guard let fault = faults.check(.sync, path) else { return try base.sync() }
        if fault.effect != .none { try? base.sync() }
        throw FaultInjectingFileSystem.failure(.sync, path, fault.errno)
    }

    func close() { base.close() }
}
