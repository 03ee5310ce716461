/// An immutable picture of the live segments. Readers and iterators hold the version they
/// started with, so installing a new one never disturbs them.
///
/// Invariants (checked by `violation()`: at every install, and at open where a damaged manifest
/// could break them): L0 is ordered newest first (file numbers descending); every deeper level
/// is sorted by key and its segments' user-key ranges do not overlap; no file appears twice.
final class Version: Sendable {
    /// L0 newest first (overlapping ranges); L1+ sorted by key, non-overlapping.
    let levels: [[SegmentFile]]

    init(levels: [[SegmentFile]]) { self.levels = levels }

    var allFiles: [SegmentFile] { levels.flatMap { $0 } }

    /// Every file with its level, for introspection.
    var infos: [SegmentInfo] {
        levels.enumerated().flatMap { level, files in files.map { $0.info(level: level) } }
    }

    /// A description of the first broken invariant, or nil if the version is well formed.
    func violation() -> String? {
        var seen = Set<UInt64>()
        for (level, files) in levels.enumerated() {
            for (i, f) in files.enumerated() {
                if !seen.insert(f.number).inserted { return "segment \(f.number) appears twice (L\(level))" }
                guard i > 0 else { continue }
                let prev = files[i - 1]
                if level == 0 {
                    if prev.number <= f.number { return "L0 not newest first: \(prev.number) before \(f.number)" }
                } else if compareBytes(prev.largestUserKey, f.smallestUserKey) >= 0 {
                    return "L\(level) segments \(prev.number) and \(f.number) overlap or are out of order"
                }
            }
        }
        return nil
    }

    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        for file in levels[0] {
            let r = try file.get(userKey, snapshot: snapshot)
            if r != .notFound { return r }
        }
        for level in levels.dropFirst() where !level.isEmpty {
            guard let file = Self.find(level, userKey) else { continue }
            let r = try file.get(userKey, snapshot: snapshot)
            if r != .notFound { return r }
        }
        return .notFound
    }

    /// The segment of a sorted, non-overlapping level whose range may hold `userKey`.
    static func find(_ level: [SegmentFile], _ userKey: ArraySlice<UInt8>) -> SegmentFile? {
        var lo = 0, hi = level.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if compareBytes(level[mid].largestUserKey, userKey) < 0 { lo = mid + 1 } else { hi = mid }
        }
        guard lo < level.count, level[lo].contains(userKey) else { return nil }
        return level[lo]
    }

    /// Iterators for a merged scan, newest first: one per L0 segment, one per deeper level.
    func iterators() throws(StorageError) -> [any InternalIterator] {
        var out: [any InternalIterator] = []
        for file in levels[0] { out.append(try file.reader().makeIterator()) }
        for level in levels.dropFirst() where !level.isEmpty { out.append(LevelIterator(level)) }
        return out
    }
}
