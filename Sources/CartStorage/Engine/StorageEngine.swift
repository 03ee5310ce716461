/// CartStore's per-node storage engine: an ordered byte-key → byte-value store with atomic
/// write batches, in the LevelDB family (WAL → memtable → immutable sorted segments, tracked by
/// a manifest).
///
/// Durability: with `SyncPolicy.always` (the default) a write returns only after its WAL record
/// is fdatasync'ed; writers that arrive while a sync is in flight share the next one (group
/// commit). Reopening a directory restores exactly the acknowledged writes.
///
/// Failures: when a write, flush, compaction or manifest update fails in a way that leaves its
/// outcome unknown (a write or sync that failed after bytes may have reached the file), the
/// engine keeps every file, refuses writes with `StorageError.writesStopped` naming the operation
/// and its cause, and goes on serving reads; the next open decides what survived.
///
/// Lifecycle: this handle owns the engine. `close()` ends it; so does releasing the last
/// reference to the handle. After `close()` begins, every call (on the engine and on its open
/// iterators) fails with `StorageError.closed`; a concurrent second `close()` returns once the
/// first has finished. Closing waits for writes in flight, lets a running flush finish and a
/// running compaction give up, syncs the WAL, and releases the directory.
///
/// Readers never wait for a disk sync: WAL and manifest syncs, memtable switches and background
/// work run without the lock that reads take.
///
/// Thread safety: every method may be called from any thread concurrently.
public final class StorageEngine: Sendable {
    let core: EngineCore

    init(core: EngineCore) { self.core = core }

    deinit { try? core.close() }

    public var directory: String { core.directory.path }
    public var options: StorageOptions { core.options }

    /// Opens (or creates) the engine in `directory`, recovering acknowledged writes from the
    /// manifest and write-ahead logs. Fails at once if another engine holds the directory, and
    /// refuses (deleting nothing) if a file the manifest names is missing.
    public static func open(_ directory: String, options: StorageOptions = StorageOptions()) throws(StorageError) -> StorageEngine {
        try options.validate()
        let core = try Recovery(directory: directory, options: options).run()
        do {
            try core.startBackground()
        } catch {
            try? core.close()
            throw error
        }
        return StorageEngine(core: core)
    }

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
        try core.enqueue(PendingWrite(batch: batch, forceFlush: false))
    }

    /// Makes every write this engine acknowledged so far durable: fdatasyncs the WAL if a write
    /// since the last sync left it unsynced (a no-op under `sync = .always`). For callers that
    /// write with `sync = .none` and hold back their own acknowledgements until a sync covers
    /// them (group commit above the engine: the server's node runtime). A failure stops writes
    /// like a failed WAL append (`writesStopped`), keeping every file.
    public func syncWAL() throws(StorageError) {
        try core.enqueue(PendingWrite(batch: WriteBatch(), forceFlush: false, syncOnly: true))
    }

    // MARK: - Background work

    /// Makes the current memtable immutable and waits until it is written to a segment.
    public func flush() throws(StorageError) { try core.flush() }

    /// Waits until no flush is pending and no compaction is due (e.g. before measuring space),
    /// and deletes the files no version or scan needs any more.
    public func waitForBackgroundWork() throws(StorageError) { try core.waitForBackgroundWork() }

    /// Flushes the memtable and merges the data present now down into the deepest non-empty
    /// level (at least L1), like RocksDB's `CompactRange` over the whole key space: afterwards no
    /// older version or droppable tombstone of that data is left on disk. Writes go on meanwhile,
    /// and automatic compactions alternate with its steps; data written after the call is not
    /// waited for.
    public func compactAll() throws(StorageError) { try core.compactAll() }

    /// With `StorageOptions.backgroundMode = .manual`: runs up to `maxSteps` units of background
    /// work (one flush or one compaction each), deletes obsolete files and does a due interval
    /// sync. Returns true if more work is due. Throws `.invalidArgument` in `.thread` mode.
    @discardableResult
    public func runBackgroundWork(maxSteps: Int = .max) throws(StorageError) -> Bool {
        try core.runBackgroundWork(maxSteps: maxSteps)
    }

    // MARK: - Reads

    /// The value of `key`, or nil if it is absent or deleted.
    public func get<K: Collection>(_ key: K) throws(StorageError) -> [UInt8]? where K.Element == UInt8 {
        try core.get(Array(key)[...])
    }

    /// An ordered scan of `[start, end)` (nil: unbounded) over a consistent snapshot. The
    /// iterator keeps every file it may read alive, through flushes and compactions, until it is
    /// released; after `close()` it fails with `.closed`.
    public func scan(from start: [UInt8]? = nil, to end: [UInt8]? = nil) throws(StorageError) -> StorageIterator {
        try core.scan(from: start, to: end)
    }

    // MARK: - Introspection

    /// Every live segment with its key range and entry count.
    public func liveSegments() -> [SegmentInfo] { core.liveSegments() }

    /// Registers `listener`, called (on the thread that ran the flush or compaction, without
    /// engine locks held) after each flush or compaction installs or removes segments.
    public func addSegmentListener(_ listener: @escaping @Sendable (SegmentChange) -> Void) {
        core.addSegmentListener(listener)
    }

    /// Counters since open.
    public func stats() -> StorageStatistics { core.stats() }

    /// Why writes are refused now (a failure whose outcome is unknown stopped them, or the engine
    /// is closing), or nil while writes are accepted. Health checks read it.
    public var writeRefusal: StorageError? { core.lock.withLock { core.lifecycle.writeRefusal } }

    // MARK: - Close

    /// Waits for in-flight writes, stops background work, syncs the WAL and releases the
    /// directory. Idempotent; a concurrent call returns when the first one has finished.
    public func close() throws(StorageError) { try core.close() }
}
