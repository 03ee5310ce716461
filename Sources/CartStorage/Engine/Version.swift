/// A live segment with its reader, or the error that prevented opening it (a corrupt footer or
/// index). Reads that need a failed segment report that error; every other key is served.
final class SegmentHandle: @unchecked Sendable {
    let meta: SegmentMeta
    let reader: Result<SegmentReader, StorageError>

    init(meta: SegmentMeta, reader: Result<SegmentReader, StorageError>) {
        self.meta = meta
        self.reader = reader
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

    /// Iterators over every segment (newest first) for a merged scan.
    func iterators() throws(StorageError) -> [any InternalIterator] {
        var out: [any InternalIterator] = []
        for handle in allSegments {
            switch handle.reader {
            case let .success(r): out.append(r.makeIterator())
            case let .failure(e): throw e
            }
        }
        return out
    }
}
