import Logging

/// CartStore's per-node storage engine: an ordered byte-key → byte-value store with atomic
/// write batches, in the LevelDB family (WAL → memtable → immutable sorted segments, tracked by
/// a manifest).
///
/// Durability: with `SyncPolicy.always` (the default) a write returns only after its WAL record
/// is fdatasync'ed; writers that arrive while a sync is in flight share the next one (group
/// commit). Reopening a directory restores exactly the acknowledged writes.
///
/// Thread safety: every public method may be called from any thread concurrently. Internally,
/// `lock` guards the fields marked "guarded"; one writer at a time (the queue's leader) appends
/// to the WAL and inserts into the memtable without holding the lock; a background thread
/// flushes immutable memtables.
///
/// Ownership: the directory is locked (flock on `LOCK`) from `open` until `close`.
public final class StorageEngine: @unchecked Sendable {
    public let directory: String
    public let options: StorageOptions
    let logger: Logger
    let lock = ConditionLock()
    let cache: BlockCache?
    /// Bounds the segments held open (`StorageOptions.maxOpenFiles`).
    let tables: TableCache
    private let directoryLock: DirectoryLock

    // Guarded by `lock`.
    var mem: Memtable
    var imm: Memtable?
    var immWALNumber: UInt64 = 0
    var wal: LogWriter
    let manifest: Manifest
    var version: Version
    /// Largest sequence number visible to readers.
    var lastSequence: UInt64
    var writers: [PendingWrite] = []
    var backgroundError: StorageError?
    var closing = false
    var closed = false
    var walSyncedNanos: UInt64 = monotonicNanoseconds()
    var walDirty = false
    var statistics = StorageStatistics()
    var listeners: [@Sendable (SegmentChange) -> Void] = []
    /// A full compaction requested by `compactAll`: levels above `bottom` are pushed down one
    /// at a time, starting at `level`.
    var manualCompaction: (level: Int, bottom: Int)?
    /// Per level, the largest user key of the last compaction there (round-robin picking).
    var compactPointers: [[UInt8]] = Array(repeating: [], count: Levels.count)
    var background: BackgroundThread?

    init(directory: String, options: StorageOptions, directoryLock: DirectoryLock, cache: BlockCache?, tables: TableCache,
         mem: Memtable, wal: LogWriter, manifest: Manifest, version: Version, lastSequence: UInt64) {
        self.directory = directory
        self.options = options
        self.logger = options.logger
        self.directoryLock = directoryLock
        self.cache = cache
        self.tables = tables
        self.mem = mem
        self.wal = wal
        self.manifest = manifest
        self.version = version
        self.lastSequence = lastSequence
    }

    /// Opens (or creates) the engine in `directory`, recovering acknowledged writes from the
    /// manifest and write-ahead logs. Fails at once if another engine holds the directory.
    public static func open(_ directory: String, options: StorageOptions = StorageOptions()) throws(StorageError) -> StorageEngine {
        try options.validate()
        let engine = try Recovery(directory: directory, options: options).run()
        try engine.startBackground()
        return engine
    }

    private func startBackground() throws(StorageError) {
        background = try BackgroundThread(name: "cartstore-bg \(directory)") { [self] in self.backgroundLoop() }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    // MARK: - Writes

    public func put<K: Collection, V: Collection>(_ key: K, _ value: V) throws(StorageError) where K.Element == UInt8, V.Element == UInt8 {
        var b = WriteBatch()
        b.put(key, value)
        try write(b)
    }

    public func delete<K: Collection>(_ key: K) throws(StorageError) where K.Element == UInt8 {
        var b = WriteBatch()
        b.delete(key)
        try write(b)
    }

    /// Applies `batch` atomically. Returns once it is durable per the sync policy.
    public func write(_ batch: WriteBatch) throws(StorageError) {
        try batch.validate()
        if batch.isEmpty { return }
        try enqueue(PendingWrite(batch: batch, forceFlush: false))
    }

    /// Makes the current memtable immutable and waits until it is written to a segment.
    public func flush() throws(StorageError) {
        try enqueue(PendingWrite(batch: WriteBatch(), forceFlush: true))
        lock.lock()
        defer { lock.unlock() }
        while imm != nil && backgroundError == nil { lock.wait() }
        if let e = backgroundError { throw .backgroundFailure(e.description) }
    }

    /// Waits until no flush is pending and no compaction is due (e.g. before measuring space).
    public func waitForBackgroundWork() throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        while backgroundError == nil && !closed
                && (imm != nil || (options.compactionEnabled && CompactionPlan.pick(version, options: options, pointers: compactPointers) != nil)) {
            lock.signalBackground()
            lock.wait()
        }
        if let e = backgroundError { throw .backgroundFailure(e.description) }
    }

    /// Flushes the memtable and merges everything down into the deepest non-empty level (at
    /// least L1), like RocksDB's `CompactRange` over the whole key space: afterwards no older
    /// version or droppable tombstone is left on disk. Runs on the background thread; this call
    /// waits for it. Writes go on meanwhile.
    public func compactAll() throws(StorageError) {
        try flush()
        lock.lock()
        defer { lock.unlock() }
        let deepest = version.levels.lastIndex { !$0.isEmpty } ?? 0
        manualCompaction = (0, max(1, deepest))
        lock.signalBackground()
        while manualCompaction != nil && backgroundError == nil && !closed { lock.wait() }
        if let e = backgroundError { throw .backgroundFailure(e.description) }
        if closed { throw .closed }
    }

    // MARK: - Reads

    /// The value of `key`, or nil if it is absent or deleted.
    public func get<K: Collection>(_ key: K) throws(StorageError) -> [UInt8]? where K.Element == UInt8 {
        let k = Array(key)[...]
        let (m, i, v, snapshot) = try readState()
        switch m.get(k, snapshot: snapshot) {
        case let .found(value): return value
        case .deleted: return nil
        case .notFound: break
        }
        if let i {
            switch i.get(k, snapshot: snapshot) {
            case let .found(value): return value
            case .deleted: return nil
            case .notFound: break
            }
        }
        if case let .found(value) = try v.get(k, snapshot: snapshot) { return value }
        return nil
    }

    /// An ordered scan of `[start, end)` (nil: unbounded) over a consistent snapshot.
    public func scan(from start: [UInt8]? = nil, to end: [UInt8]? = nil) throws(StorageError) -> StorageIterator {
        let (m, i, v, snapshot) = try readState()
        var children: [any InternalIterator] = [MemtableIterator(m)]
        if let i { children.append(MemtableIterator(i)) }
        children.append(contentsOf: try v.iterators())
        return StorageIterator(merged: MergingIterator(children), snapshot: snapshot, start: start, end: end, pinned: v)
    }

    private func readState() throws(StorageError) -> (Memtable, Memtable?, Version, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if closed { throw .closed }
        return (mem, imm, version, lastSequence)
    }

    // MARK: - Introspection

    /// Every live segment with its key range and entry count.
    public func liveSegments() -> [SegmentInfo] {
        lock.withLock { version.allSegments.map { $0.meta.info } }
    }

    /// Registers `listener`, called (on the background thread, without engine locks held)
    /// after each flush or compaction installs or removes segments.
    public func addSegmentListener(_ listener: @escaping @Sendable (SegmentChange) -> Void) {
        lock.withLock { listeners.append(listener) }
    }

    /// Counters since open.
    public func stats() -> StorageStatistics {
        lock.withLock {
            var s = statistics
            s.segmentsPerLevel = version.levels.map(\.count)
            s.bytesPerLevel = version.levels.map { $0.reduce(0) { $0 + $1.meta.fileSize } }
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

    // MARK: - Close

    /// Waits for in-flight writes and the running flush, syncs the WAL, stops the background
    /// thread and releases the directory. Idempotent.
    public func close() throws(StorageError) {
        lock.lock()
        if closed || closing { lock.unlock(); return }
        closing = true
        lock.broadcast() // wake stalled writers: they see `closing` and fail with .closed
        while !writers.isEmpty { lock.wait() }
        lock.signalBackground()
        lock.unlock()
        background?.join()
        lock.lock()
        defer { lock.unlock() }
        closed = true
        var firstError: StorageError?
        if options.sync != .always && backgroundError == nil {
            do { try wal.sync() } catch { firstError = error }
        }
        do { try wal.close() } catch { firstError = firstError ?? error }
        manifest.close()
        directoryLock.release()
        if let firstError { throw firstError }
    }

    deinit {
        if !closed { try? close() }
    }
}

/// A writer waiting in the queue; the leader completes it.
final class PendingWrite {
    let batch: WriteBatch
    let forceFlush: Bool
    var done = false
    var error: StorageError?

    init(batch: WriteBatch, forceFlush: Bool) {
        self.batch = batch
        self.forceFlush = forceFlush
    }
}

/// Counters a user can read through `StorageEngine.stats()`.
public struct StorageStatistics: Sendable, CustomStringConvertible {
    public var flushCount: UInt64 = 0
    public var bytesFlushed: UInt64 = 0
    public var compactionCount: UInt64 = 0
    public var bytesCompactedWritten: UInt64 = 0
    public var bytesCompactedRead: UInt64 = 0
    /// Bytes of user data accepted by `write` (keys + values).
    public var bytesWrittenByUser: UInt64 = 0
    public var walSyncs: UInt64 = 0
    public var writeGroups: UInt64 = 0
    public var writes: UInt64 = 0
    public var stallCount: UInt64 = 0
    public var stallNanoseconds: UInt64 = 0
    public var segmentsPerLevel: [Int] = []
    public var bytesPerLevel: [UInt64] = []
    public var cacheHits: UInt64 = 0
    public var cacheMisses: UInt64 = 0
    public var cacheBytes: Int = 0
    public var memtableBytes: Int = 0
    /// Segments currently held open, each with its index and filter (bounded by `maxOpenFiles`).
    public var openFiles: Int = 0
    public var lastSequence: UInt64 = 0

    /// (flushed + compacted bytes) / user bytes.
    public var writeAmplification: Double {
        bytesWrittenByUser == 0 ? 0 : Double(bytesFlushed + bytesCompactedWritten) / Double(bytesWrittenByUser)
    }

    public var cacheHitRate: Double {
        let total = cacheHits + cacheMisses
        return total == 0 ? 0 : Double(cacheHits) / Double(total)
    }

    public var description: String {
        var lines: [String] = []
        for (l, n) in segmentsPerLevel.enumerated() where n > 0 {
            lines.append("L\(l): \(n) segments, \(bytesPerLevel[l]) bytes")
        }
        lines.append("flushes \(flushCount) (\(bytesFlushed) bytes), compactions \(compactionCount) (read \(bytesCompactedRead), wrote \(bytesCompactedWritten) bytes)")
        lines.append("write amplification \(String(format2(writeAmplification))), writes \(writes) in \(writeGroups) groups, \(walSyncs) WAL syncs")
        lines.append("stalls \(stallCount) (\(stallNanoseconds / 1_000_000) ms), cache hit rate \(format2(cacheHitRate * 100))% (\(cacheBytes) bytes)")
        return lines.joined(separator: "\n")
    }
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded()
    let whole = Int(scaled / 100)
    let frac = Int(abs(scaled).truncatingRemainder(dividingBy: 100))
    return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
}
