/// What one compaction will do: merge `inputs` (segments of `level` and the overlapping ones of
/// `level + 1`) into new segments of `level + 1`, or, when nothing in `level + 1` overlaps a
/// single input, move it down with a manifest edit alone (a trivial move).
struct CompactionPlan {
    let level: Int
    /// Segments of `level`.
    let upper: [SegmentFile]
    /// Overlapping segments of `level + 1`.
    let lower: [SegmentFile]

    var outputLevel: Int { level + 1 }
    var inputs: [SegmentFile] { upper + lower }
    var isTrivialMove: Bool { level > 0 && upper.count == 1 && lower.isEmpty }

    /// Chooses the most urgent compaction of `version`, or nil if every level is within its
    /// target: L0 by segment count, deeper levels by bytes over target (LevelDB's scores).
    /// `pointers[level]` is the largest key of the last compaction at that level, so successive
    /// compactions walk the key space round-robin.
    static func pick(_ version: Version, options: StorageOptions, pointers: [[UInt8]]) -> CompactionPlan? {
        var bestLevel = -1
        var bestScore = 1.0
        for level in 0..<(Levels.count - 1) {
            let score: Double
            if level == 0 {
                score = Double(version.levels[0].count) / Double(options.level0CompactionTrigger)
            } else {
                let bytes = version.levels[level].reduce(0.0) { $0 + Double($1.size) }
                score = bytes / options.levelMaxBytes(level)
            }
            if score >= bestScore {
                bestScore = score
                bestLevel = level
            }
        }
        guard bestLevel >= 0 else { return nil }
        return plan(version, level: bestLevel, pointer: pointers[bestLevel])
    }

    /// The compaction of `level`: all of L0, or the first segment of a deeper level after
    /// `pointer`; plus every overlapping segment of the next level.
    static func plan(_ version: Version, level: Int, pointer: [UInt8]) -> CompactionPlan? {
        let segments = version.levels[level]
        guard !segments.isEmpty else { return nil }
        if level == 0 { return plan(version, level: 0, upper: segments) }
        let next = segments.first { compareBytes($0.largestUserKey, pointer[...]) > 0 } ?? segments[0]
        return plan(version, level: level, upper: [next])
    }

    /// The compaction of `upper` (segments of `level`; for L0, the oldest ones) into the next
    /// level, with every overlapping segment there.
    static func plan(_ version: Version, level: Int, upper: [SegmentFile]) -> CompactionPlan {
        precondition(!upper.isEmpty && level + 1 < Levels.count, "a compaction needs input above the last level")
        var lo = upper[0].smallestUserKey, hi = upper[0].largestUserKey
        for f in upper.dropFirst() {
            if compareBytes(f.smallestUserKey, lo) < 0 { lo = f.smallestUserKey }
            if compareBytes(f.largestUserKey, hi) > 0 { hi = f.largestUserKey }
        }
        let lower = version.levels[level + 1].filter {
            compareBytes($0.largestUserKey, lo) >= 0 && compareBytes($0.smallestUserKey, hi) <= 0
        }
        return CompactionPlan(level: level, upper: upper, lower: lower)
    }
}
