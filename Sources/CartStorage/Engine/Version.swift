import Synchronization

/// A live segment: its manifest metadata and access to its reader through the engine's
/// `TableCache`, which bounds how many readers (descriptors, index blocks, bloom filters) are
/// held open. A segment that cannot be opened because its footer or index is corrupt keeps
/// that error: reads that need it report it; every other key is served.
///
/// Lifetime: versions, iterators and compactions hold handles. A compaction that replaces a
/// segment marks its handle obsolete; the file is unlinked when the last holder lets go, so a
/// scan that started before the compaction keeps reading it (LevelDB's live-version rule).
final class SegmentHandle: @unchecked Sendable {
    let meta: SegmentMeta
    private let tables: TableCache
    /// A corruption found when opening: permanent for this handle.
    private let failure = Mutex<StorageError?>(nil)
    private let obsolete = Mutex(false)

    init(meta: SegmentMeta, tables: TableCache) {
        self.meta = meta
        self.tables = tables
    }

    /// The reader, from the table cache (opened and verified on a miss).
    func reader() throws(StorageError) -> SegmentReader {
        if let e = failure.withLock({ $0 }) { throw e }
        do {
            return try tables.reader(meta.fileNumber)
        } catch {
            if error.isCorruption { failure.withLock { $0 = error } }
            throw error
        }
    }

    /// Opens the reader now, so that a corrupt footer or index is found (and logged by the
    /// caller) at open or install time rather than by the first read.
    func verifyOpens() -> StorageError? {
        do { _ = try reader(); return nil } catch { return error }
    }

    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        guard meta.contains(userKey) else { return .notFound }
        return try reader().get(userKey, snapshot: snapshot)
    }

    /// The file is deleted (and its reader and cached blocks dropped) on release.
    func markObsolete() { obsolete.withLock { $0 = true } }

    deinit {
        guard obsolete.withLock({ $0 }) else { return }
        tables.evict(meta.fileNumber)
        tables.blocks?.evict(fileNumber: meta.fileNumber)
        try? FileSystem.remove(tables.directory + "/" + FileNames.segment(meta.fileNumber))
    }
}

/// An immutable picture of the live segments. Readers and iterators hold the version they
/// started with, so installing a new one never disturbs them.
final class Version: @unchecked Sendable {
    /// L0 newest first (overlapping ranges); L1+ sorted by key, non-overlapping.
    let levels: [[SegmentHandle]]

    init(levels: [[SegmentHandle]]) { self.levels = levels }

    var allSegments: [SegmentHandle] { levels.flatMap { $0 } }

    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        for handle in levels[0] {
            let r = try handle.get(userKey, snapshot: snapshot)
            if r != .notFound { return r }
        }
        for level in levels.dropFirst() where !level.isEmpty {
            guard let handle = Self.find(level, userKey) else { continue }
            let r = try handle.get(userKey, snapshot: snapshot)
            if r != .notFound { return r }
        }
        return .notFound
    }

    /// The segment of a sorted, non-overlapping level whose range may hold `userKey`.
    static func find(_ level: [SegmentHandle], _ userKey: ArraySlice<UInt8>) -> SegmentHandle? {
        var lo = 0, hi = level.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if compareBytes(level[mid].meta.largestUserKey, userKey) < 0 { lo = mid + 1 } else { hi = mid }
        }
        guard lo < level.count, level[lo].meta.contains(userKey) else { return nil }
        return level[lo]
    }

    /// Iterators for a merged scan, newest first: one per L0 segment, one per deeper level.
    func iterators() throws(StorageError) -> [any InternalIterator] {
        var out: [any InternalIterator] = []
        for handle in levels[0] { out.append(try handle.reader().makeIterator()) }
        for level in levels.dropFirst() where !level.isEmpty { out.append(LevelIterator(level)) }
        return out
    }
}
