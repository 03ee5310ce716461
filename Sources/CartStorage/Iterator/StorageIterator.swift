/// An ordered scan over user keys as of one snapshot: for each key the newest version with a
/// sequence ≤ the snapshot, skipping deleted keys, within `[start, end)`.
///
/// The iterator pins the memtables and segments it reads (by reference), so flushes and
/// compactions that happen meanwhile do not change what it returns.
///
/// Not thread-safe: use it from one thread at a time.
public final class StorageIterator {
    private let merged: MergingIterator
    private let snapshot: UInt64
    private let end: [UInt8]?
    private var lastUserKey: [UInt8]? = nil
    private var started = false
    private let start: [UInt8]?
    /// Keeps the engine state the iterator reads alive.
    private let pinned: AnyObject

    init(merged: MergingIterator, snapshot: UInt64, start: [UInt8]?, end: [UInt8]?, pinned: AnyObject) {
        self.merged = merged
        self.snapshot = snapshot
        self.start = start
        self.end = end
        self.pinned = pinned
    }

    /// The next (key, value), or nil at the end of the range. Throws if a block on the way is
    /// corrupt (file and offset in the error).
    public func nextEntry() throws(StorageError) -> (key: [UInt8], value: [UInt8])? {
        if !started {
            started = true
            if let start {
                try merged.seek(InternalKey.seekKey(userKey: start[...], sequence: InternalKey.maxSequence)[...])
            } else {
                try merged.seekToFirst()
            }
        }
        while merged.isValid {
            let k = merged.key
            let uk = InternalKey.userKey(k[...])
            if let end, compareBytes(uk, end[...]) >= 0 { return nil }
            let trailer = InternalKey.trailer(k[...])
            let seq = trailer >> 8
            if seq > snapshot || (lastUserKey.map { $0[...] == uk } ?? false) {
                try merged.next()
                continue
            }
            let userKey = Array(uk)
            lastUserKey = userKey // shares storage with the returned key: one allocation
            let isDelete = UInt8(truncatingIfNeeded: trailer) == ValueKind.deletion.rawValue
            let value = isDelete ? [] : Array(merged.value)
            try merged.next()
            if isDelete { continue }
            return (userKey, value)
        }
        return nil
    }

    /// Reads up to `limit` entries.
    public func collect(limit: Int = .max) throws(StorageError) -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        while out.count < limit, let e = try nextEntry() { out.append(e) }
        return out
    }
}
