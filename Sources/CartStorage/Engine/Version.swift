import Synchronization

/// A live segment with its reader, or the error that prevented opening it (a corrupt footer or
/// index). Reads that need a failed segment report that error; every other key is served.
///
/// Lifetime: versions, iterators and compactions hold handles. A compaction that replaces a
/// segment marks its handle obsolete; the file is unlinked when the last holder lets go, so a
/// scan that started before the compaction keeps reading it (LevelDB's live-version rule).
final class SegmentHandle: @unchecked Sendable {
    let meta: SegmentMeta
    let reader: Result<SegmentReader, StorageError>

    private struct Obsolete {
        let path: String
        let cache: BlockCache?
        let files: FileCache?
    }
    private let obsolete = Mutex<Obsolete?>(nil)

    /// The file is deleted (and its cached blocks and descriptor dropped) on release.
    func markObsolete(directory: String, cache: BlockCache?, files: FileCache?) {
        obsolete.withLock { $0 = Obsolete(path: directory + "/" + FileNames.segment(meta.fileNumber), cache: cache, files: files) }
    }

    deinit {
        guard let o = obsolete.withLock({ $0 }) else { return }
        try? FileSystem.remove(o.path)
        o.cache?.evict(fileNumber: meta.fileNumber)
        o.files?.evict(meta.fileNumber)
    }

    init(meta: SegmentMeta, reader: Result<SegmentReader, StorageError>) {
        self.meta = meta
        self.reader = reader
    }

    /// Opens the live segment `meta` in `directory`; a failure is kept, not thrown.
    static func open(_ meta: SegmentMeta, directory: String, cache: BlockCache?, files: FileCache?) -> SegmentHandle {
        let path = directory + "/" + FileNames.segment(meta.fileNumber)
        return SegmentHandle(meta: meta, reader: Result { () throws(StorageError) in
            try SegmentReader.open(path: path, fileNumber: meta.fileNumber, cache: cache, files: files)
        })
    }

    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        guard meta.contains(userKey) else { return .notFound }
        switch reader {
        case let .success(r): return try r.get(userKey, snapshot: snapshot)
        case let .failure(e): throw e
        }
    }
}

/// An immutable picture of the live segments. Readers and iterators hold the version they
/// started with, so installing a new one never disturbs them.
final class Version: @unchecked Sendable {
    /// L0 newest first (overlapping ranges); L1+ sorted by key, non-overlapping.
    let levels: [[SegmentHandle]]

    init(levels: [[SegmentHandle]]) { self.levels = levels }

    static let empty = Version(levels: Array(repeating: [], count: Levels.count))

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
        for handle in levels[0] {
            switch handle.reader {
            case let .success(r): out.append(r.makeIterator())
            case let .failure(e): throw e
            }
        }
        for level in levels.dropFirst() where !level.isEmpty { out.append(LevelIterator(level)) }
        return out
    }
}
