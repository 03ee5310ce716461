import Logging
import Synchronization

/// The engine behind a `StorageEngine` handle. The background thread holds this object, never
/// the handle, so that releasing the handle closes the engine.
///
/// Locking: `lock` guards every field marked "guarded", and is held only for in-memory work:
/// file I/O (WAL appends and syncs, segment writes, manifest writes, memtable switches) runs with
/// it released, so readers never wait on a disk. Functions documented "(lock held)" check it.
/// - Writers queue in `writers`; the head (the leader) commits the queue as one WAL record.
/// - One manifest writer at a time: `manifestBusy` (guarded) is taken around `Manifest.append`.
/// - One background step (flush or compaction) at a time: `stepInProgress` (guarded), taken by
///   the background thread, or in manual mode by whichever caller runs the step.
/// - `manifest` is touched only by the holder of `manifestBusy` (and by open and close).
///
/// Invariants: sequence numbers handed to writers strictly increase (checked per group); every
/// installed version passes `Version.violation()` (checked per install); a file an edit whose
/// outcome is unknown names or drops is never deleted.
final class EngineCore: @unchecked Sendable {
    let directory: DataDirectory
    let options: StorageOptions
    let logger: Logger
    let lock = ConditionLock()
    let cache: BlockCache?
    /// Bounds the segments held open (`StorageOptions.maxOpenFiles`).
    let tables: TableCache
    private let directoryLock: any DirectoryLock
    /// Touched only by the holder of `manifestBusy`.
    let manifest: Manifest

    // Guarded by `lock`.
    var lifecycle = Lifecycle.open
    var mem: Memtable
    var imm: Memtable?
    var immWALNumber: UInt64 = 0
    var wal: LogWriter
    var version: Version
    /// Versions replaced while the lock was held, released only after it is: dropping the last
    /// reference to a version can release obsolete segment files, whose cleanup (table and block
    /// cache eviction) has no business running under the lock readers take.
    var retiredVersions: [Version] = []
    /// Largest sequence number visible to readers.
    var lastSequence: UInt64
    /// The next file number to hand out (recorded by every manifest edit).
    var nextFileNumber: UInt64
    var writers: [PendingWrite] = []
    var manifestBusy = false
    var stepInProgress = false
    var walSyncedNanos: UInt64 = monotonicNanoseconds()
    var walDirty = false
    /// Groups appended to the current WAL (tells an interval sync whether it covered the last).
    var walAppends: UInt64 = 0
    var statistics = StorageStatistics()
    var listeners: [@Sendable (SegmentChange) -> Void] = []
    var manualCompaction: ManualCompaction?
    var nextManualCompactionID: UInt64 = 1
    /// True if the last compaction step served `manualCompaction` (they alternate with automatic).
    var lastStepWasManual = false
    /// Per level, the largest user key of the last compaction there (round-robin picking).
    var compactPointers: [[UInt8]] = Array(repeating: [], count: Levels.count)
    var background: BackgroundThread?

    init(directory: DataDirectory, options: StorageOptions, directoryLock: any DirectoryLock, cache: BlockCache?,
         tables: TableCache, wal: LogWriter, manifest: Manifest, version: Version, lastSequence: UInt64) {
        self.directory = directory
        self.options = options
        self.logger = options.logger
        self.directoryLock = directoryLock
        self.cache = cache
        self.tables = tables
        self.mem = Memtable()
        self.wal = wal
        self.manifest = manifest
        self.version = version
        self.lastSequence = lastSequence
        self.nextFileNumber = manifest.state.nextFileNumber
    }

    func startBackground() throws(StorageError) {
        guard options.backgroundMode == .thread else { return }
        let thread = try BackgroundThread(name: "cartstore-bg \(directory.path)") { [self] in self.backgroundLoop() }
        lock.withLock { background = thread }
    }

    /// Takes the next file number (lock held). It becomes durable with the next manifest edit.
    func allocateFileNumber() -> UInt64 {
        lock.assertHeld()
        defer { nextFileNumber += 1 }
        return nextFileNumber
    }

    // MARK: - Lifecycle

    /// Records that `operation` failed with `cause` (lock held): the engine stops accepting
    /// writes and background work, keeps every file and goes on serving reads. Returns the
    /// error writers get from now on.
    @discardableResult
    func enterFailed(_ operation: String, _ cause: StorageError) -> StorageError {
        lock.assertHeld()
        let error = StorageError.writesStopped(operation: operation, cause: cause)
        switch lifecycle {
        case .open:
            lifecycle = .failed(error)
            logger.error("\(operation) failed; writes are refused until the engine is reopened: \(cause)",
                         metadata: ["directory": "\(directory.path)"])
        case .closing(failure: nil):
            lifecycle = .closing(failure: error)
            logger.error("\(operation) failed while closing: \(cause)", metadata: ["directory": "\(directory.path)"])
        case .failed, .closing, .closed:
            logger.warning("\(operation) failed after writes were stopped: \(cause)", metadata: ["directory": "\(directory.path)"])
        }
        lock.broadcast()
        return lifecycle.writeRefusal ?? error
    }

    /// The error a caller that needs background work gets now (lock held), or nil.
    func backgroundRefusal() -> StorageError? {
        lock.assertHeld()
        return lifecycle.writeRefusal
    }

    // MARK: - Reads

    /// What a read works on: taken under the lock, read without it.
    struct ReadState {
        let mem: Memtable
        let imm: Memtable?
        let version: Version
        let snapshot: UInt64
    }

    func readState() throws(StorageError) -> ReadState {
        lock.lock()
        defer { lock.unlock() }
        guard lifecycle.servesReads else { throw .closed }
        return ReadState(mem: mem, imm: imm, version: version, snapshot: lastSequence)
    }

    func get(_ key: ArraySlice<UInt8>) throws(StorageError) -> [UInt8]? {
        let s = try readState()
        switch s.mem.get(key, snapshot: s.snapshot) {
        case let .found(value): return value
        case .deleted: return nil
        case .notFound: break
        }
        if let imm = s.imm {
            switch imm.get(key, snapshot: s.snapshot) {
            case let .found(value): return value
            case .deleted: return nil
            case .notFound: break
            }
        }
        if case let .found(value) = try s.version.get(key, snapshot: s.snapshot) { return value }
        return nil
    }

    func scan(from start: [UInt8]?, to end: [UInt8]?) throws(StorageError) -> StorageIterator {
        let s = try readState()
        var children: [any InternalIterator] = [MemtableIterator(s.mem)]
        if let imm = s.imm { children.append(MemtableIterator(imm)) }
        children.append(contentsOf: try s.version.iterators())
        return StorageIterator(merged: MergingIterator(children), snapshot: s.snapshot, start: start, end: end,
                               pinned: s.version, directory: directory)
    }

    // MARK: - Introspection

    func liveSegments() -> [SegmentInfo] { lock.withLock { version.infos } }

    func addSegmentListener(_ listener: @escaping @Sendable (SegmentChange) -> Void) {
        lock.withLock { listeners.append(listener) }
    }

    func stats() -> StorageStatistics {
        lock.withLock {
            var s = statistics
            s.segmentsPerLevel = version.levels.map(\.count)
            s.bytesPerLevel = version.levels.map { $0.reduce(0) { $0 + $1.size } }
            if let cache {
                let c = cache.statistics
                s.cacheHits = c.hits
                s.cacheMisses = c.misses
                s.cacheBytes = c.usedBytes
            }
            s.memtableBytes = mem.approximateBytes + (imm?.approximateBytes ?? 0)
            s.openFiles = tables.openCount
            s.lastSequence = lastSequence
            return s
        }
    }

    /// The names of every file the current state needs: for tests that check no orphan is left.
    func liveFileNames() -> Set<String> {
        lock.withLock {
            var names: Set<String> = [FileNames.current, FileNames.lock, FileNames.wal(wal.number)]
            if imm != nil { names.insert(FileNames.wal(immWALNumber)) }
            for f in version.allFiles { names.insert(FileNames.segment(f.number)) }
            return names
        }
    }

    // MARK: - Close

    /// See `StorageEngine.close`.
    func close() throws(StorageError) {
        lock.lock()
        switch lifecycle {
        case .closed:
            lock.unlock()
            return
        case .closing:
            while true {
                if case .closed = lifecycle { break }
                lock.wait()
            }
            lock.unlock()
            return
        case .open:
            lifecycle = .closing(failure: nil)
        case let .failed(e):
            lifecycle = .closing(failure: e)
        }
        directory.markClosed()   // scans and running compactions stop at their next check
        manualCompaction = nil
        lock.broadcast()         // stalled writers and waiters see `closing`
        lock.signalBackground()
        // Writes and background steps in flight finish; queued writers fail with `.closed`.
        while !writers.isEmpty || stepInProgress || manifestBusy { lock.wait() }
        let thread = background
        background = nil
        let finalWAL = wal
        let syncWAL: Bool
        if case .closing(failure: nil) = lifecycle { syncWAL = options.sync != .always && walDirty } else { syncWAL = false }
        lock.unlock()

        thread?.join()
        var firstError: StorageError?
        do { try finalWAL.close(sync: syncWAL) } catch { firstError = error }
        manifest.close()
        tables.evictAll()
        directory.finish()
        directoryLock.release()

        lock.lock()
        lifecycle = .closed
        lock.broadcast()
        lock.unlock()
        if let firstError { throw firstError }
    }
}
