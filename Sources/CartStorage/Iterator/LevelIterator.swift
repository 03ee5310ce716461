/// Iterates one sorted, non-overlapping level (L1+) as a single stream: it opens one segment
/// iterator at a time and moves to the next segment when the current one is exhausted, so a
/// merged scan has one child per level instead of one per segment. It holds the level's
/// `SegmentFile`s, so the files it has yet to open stay on disk until it is done.
///
/// Not thread-safe: one iterator belongs to one thread at a time.
final class LevelIterator: InternalIterator {
    private let segments: [SegmentFile]
    private var index = 0
    private var current: SegmentIterator?

    init(_ segments: [SegmentFile]) { self.segments = segments }

    var isValid: Bool { current?.isValid ?? false }
    var key: [UInt8] { current?.key ?? [] }
    var value: ArraySlice<UInt8> { current?.value ?? [] }

    private func open(_ i: Int) throws(StorageError) {
        index = i
        guard i < segments.count else { current = nil; return }
        current = try segments[i].reader().makeIterator()
    }

    /// Moves to the first entry of the following segments while the current one is exhausted.
    private func skipExhausted() throws(StorageError) {
        while let c = current, !c.isValid {
            try open(index + 1)
            try current?.seekToFirst()
        }
    }

    func seekToFirst() throws(StorageError) {
        try open(0)
        try current?.seekToFirst()
        try skipExhausted()
    }

    func seek(_ target: ArraySlice<UInt8>) throws(StorageError) {
        // First segment whose largest key is ≥ target.
        var lo = 0, hi = segments.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if InternalKey.compare(segments[mid].largestKey[...], target) < 0 { lo = mid + 1 } else { hi = mid }
        }
        try open(lo)
        try current?.seek(target)
        try skipExhausted()
    }

    func next() throws(StorageError) {
        try current?.next()
        try skipExhausted()
    }
}
