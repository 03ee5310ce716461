/// An ordered scan over user keys as of one snapshot: for each key the newest version with a
/// sequence ≤ the snapshot, skipping deleted keys, within `[start, end)`.
///
/// The iterator pins the memtables and segments it reads (by reference), so flushes and
/// compactions that happen meanwhile do not change what it returns. Once the engine's `close()`
/// has begun, every call fails with `.closed` (another engine may own the directory by then).
///
/// Not thread-safe: use it from one thread at a time.
public final class StorageIterator {
    private let merged: MergingIterator
    private let snapshot: UInt64
    private let end: [UInt8]?
    /// The user key of the entry last visited (a reused buffer) and whether there is one.
    private var lastUserKey: [UInt8] = []
    private var hasLast = false
    private var started = false
    /// True while `merged` rests on the entry last returned; the next advance steps off it.
    private var positioned = false
    private let start: [UInt8]?
    /// Keeps the engine state the iterator reads alive.
    private let pinned: AnyObject
    /// Tells whether the engine is closed.
    private let directory: DataDirectory

    init(merged: MergingIterator, snapshot: UInt64, start: [UInt8]?, end: [UInt8]?, pinned: AnyObject, directory: DataDirectory) {
        self.merged = merged
        self.snapshot = snapshot
        self.start = start
        self.end = end
        self.pinned = pinned
        self.directory = directory
    }

    /// Moves `merged` to the next visible entry (newest version ≤ snapshot, not deleted,
    /// inside the range) without copying it. False at the end of the range.
    private func advance() throws(StorageError) -> Bool {
        if directory.isClosed { throw .closed }
        if !started {
            started = true
            if let start {
                try merged.seek(InternalKey.seekKey(userKey: start[...], sequence: InternalKey.maxSequence)[...])
            } else {
                try merged.seekToFirst()
            }
        } else if positioned {
            positioned = false
            try merged.next()
        }
        while merged.isValid {
            let k = merged.key
            let uk = InternalKey.userKey(k[...])
            if let end, compareBytes(uk, end[...]) >= 0 { return false }
            let trailer = InternalKey.trailer(k[...])
            if trailer >> 8 > snapshot || (hasLast && lastUserKey[...] == uk) {
                try merged.next()
                continue
            }
            lastUserKey.removeAll(keepingCapacity: true)
            lastUserKey.append(contentsOf: uk)
            hasLast = true
            if UInt8(truncatingIfNeeded: trailer) == ValueKind.deletion.rawValue {
                try merged.next()
                continue
            }
            positioned = true
            return true
        }
        return false
    }

    /// The next (key, value), or nil at the end of the range. Throws if a block on the way is
    /// corrupt (file and offset in the error).
    public func nextEntry() throws(StorageError) -> (key: [UInt8], value: [UInt8])? {
        guard try advance() else { return nil }
        return (lastUserKey, Array(merged.value))
    }

    /// Visits the remaining entries in order without copying them: `body` gets slices that are
    /// valid only during the call, and returns false to stop. The fast path for long scans
    /// (handoff, anti-entropy, benchmarks).
    public func forEach(_ body: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) -> Bool) throws(StorageError) {
        while try advance() {
            if !body(lastUserKey[...], merged.value) { return }
        }
    }

    /// Reads up to `limit` entries.
    public func collect(limit: Int = .max) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        while out.count < limit, let e = try nextEntry() { out.append(e) }
        return out
    }
}
