/// The in-memory sorted table that receives writes after the WAL. A skip list whose nodes live
/// in flat arrays (an arena of key/value bytes plus per-node columns), so that inserting does
/// not allocate per entry and node indices stay valid forever: iterators hold an index.
///
/// Ordering is the internal-key order: user key ascending, then sequence descending. Entries are
/// only ever added (a delete adds a tombstone), so an iterator positioned on a node stays valid
/// while writes go on; a reader filters by its snapshot sequence.
///
/// Invariant, checked on every insert: sequence numbers strictly increase, so each
/// (key, sequence) is unique.
///
/// Thread safety: every method may be called from any thread; a writer-preferring read-write
/// lock guards the arrays, so concurrent readers do not wait for each other. The engine inserts
/// from one writer at a time.
final class Memtable: @unchecked Sendable {
    static let heightMax = 12

    enum Lookup: Equatable {
        case found([UInt8])
        case deleted
        case notFound
    }

    struct Storage {
        var arena: [UInt8] = []
        var keyOffset: [Int] = [0]
        var keyLength: [Int32] = [0]
        var valueLength: [Int32] = [0]
        var trailer: [UInt64] = [0]
        var towerStart: [Int32] = [0]
        /// links[towerStart[n] + level] = next node at that level, or -1.
        var links: [Int32] = Array(repeating: -1, count: Memtable.heightMax)
        var height = 1
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        var approximateBytes = 0
        var count = 0
        var sequenceLargest: UInt64 = 0

        mutating func randomHeight() -> Int {
            var h = 1
            while h < Memtable.heightMax {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                if rng & 3 != 0 { break }
                h += 1
            }
            return h
        }

        /// True if node `n` sorts before (key, trailer).
        @inline(__always)
        func less(_ n: Int32, _ arenaRaw: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer, _ t: UInt64) -> Bool {
            let i = Int(n)
            let nodeKey = UnsafeRawBufferPointer(rebasing: arenaRaw[keyOffset[i]..<(keyOffset[i] + Int(keyLength[i]))])
            let c = compareRaw(nodeKey, key)
            if c != 0 { return c < 0 }
            return trailer[i] > t
        }

        /// First node not less than (key, t); fills `prev` with the last node before it per level.
        func seek(_ key: UnsafeRawBufferPointer, _ t: UInt64, prev: UnsafeMutablePointer<Int32>?) -> Int32 {
            arena.withUnsafeBytes { arenaRaw in
                var x: Int32 = 0
                var level = height - 1
                while true {
                    let next = links[Int(towerStart[Int(x)]) + level]
                    if next >= 0 && less(next, arenaRaw, key, t) {
                        x = next
                    } else {
                        prev?[level] = x
                        if level == 0 { return next }
                        level -= 1
                    }
                }
            }
        }

        func userKey(_ n: Int32) -> ArraySlice<UInt8> {
            let i = Int(n)
            return arena[keyOffset[i]..<(keyOffset[i] + Int(keyLength[i]))]
        }

        func value(_ n: Int32) -> ArraySlice<UInt8> {
            let i = Int(n)
            let start = keyOffset[i] + Int(keyLength[i])
            return arena[start..<(start + Int(valueLength[i]))]
        }
    }

    private let rwlock = ReadWriteLock()
    /// Guarded by `rwlock`: read under its read lock, changed under its write lock.
    private var storage = Storage()

    init() {}

    /// Bytes used by keys, values and node overhead.
    var approximateBytes: Int { rwlock.withReadLock { storage.approximateBytes } }
    var count: Int { rwlock.withReadLock { storage.count } }
    var isEmpty: Bool { count == 0 }
    /// Largest sequence number inserted.
    var sequenceLargest: UInt64 { rwlock.withReadLock { storage.sequenceLargest } }

    /// Inserts one version. The same (key, sequence) is never inserted twice.
    func insert(sequence: UInt64, kind: ValueKind, key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        rwlock.withWriteLock { Self.insert(&storage, sequence: sequence, kind: kind, key: key, value: value) }
    }

    /// Inserts every entry of an encoded batch payload under one lock acquisition.
    func insert(batchPayload: [UInt8], file: String) throws(StorageError) {
        try rwlock.withWriteLock { () throws(StorageError) -> Void in
            try WriteBatch.decode(batchPayload, file: file, recordOffset: 0) { (seq, e) throws(StorageError) in
                Self.insert(&storage, sequence: seq, kind: e.kind, key: e.key, value: e.value)
            }
        }
    }

    private static func insert(_ s: inout Storage, sequence: UInt64, kind: ValueKind,
                               key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: heightMax) { prev in
            insert(&s, sequence: sequence, kind: kind, key: key, value: value, prev: prev)
        }
    }

    private static func insert(_ s: inout Storage, sequence: UInt64, kind: ValueKind, key: ArraySlice<UInt8>,
                               value: ArraySlice<UInt8>, prev: UnsafeMutableBufferPointer<Int32>) {
        // Sequences only grow (the write leader hands them out in order; replay checks its
        // records), so no (key, sequence) is ever inserted twice.
        precondition(sequence > s.sequenceLargest, "memtable insert of sequence \(sequence) after \(s.sequenceLargest)")
        let t = InternalKey.packTrailer(sequence: sequence, kind: kind)
        _ = key.withUnsafeBytes { k in s.seek(k, t, prev: prev.baseAddress) }
        let h = s.randomHeight()
        if h > s.height {
            for level in s.height..<h { prev[level] = 0 }
            s.height = h
        }
        let node = Int32(s.trailer.count)
        s.keyOffset.append(s.arena.count)
        s.arena.append(contentsOf: key)
        s.arena.append(contentsOf: value)
        s.keyLength.append(Int32(key.count))
        s.valueLength.append(Int32(value.count))
        s.trailer.append(t)
        let tower = Int32(s.links.count)
        s.towerStart.append(tower)
        for level in 0..<h {
            let p = Int(s.towerStart[Int(prev[level])]) + level
            s.links.append(s.links[p])
            s.links[p] = node
        }
        s.count += 1
        s.approximateBytes += key.count + value.count + 8 + 4 + 4 + 8 + 4 + 4 * h
        s.sequenceLargest = max(s.sequenceLargest, sequence)
    }

    /// The newest version of `key` with sequence ≤ `snapshot`.
    func get(_ key: ArraySlice<UInt8>, snapshot: UInt64) -> Lookup {
        rwlock.withReadLock {
            let t = InternalKey.packTrailer(sequence: snapshot, kind: .value)
            let n = key.withUnsafeBytes { storage.seek($0, t, prev: nil) }
            guard n >= 0, storage.userKey(n) == key else { return .notFound }
            if storage.trailer[Int(n)] & 0xff == UInt64(ValueKind.deletion.rawValue) { return .deleted }
            return .found(Array(storage.value(n)))
        }
    }

    /// Node index of the first entry ≥ the encoded internal key `target` (-1: none).
    func seek(internalKey target: ArraySlice<UInt8>) -> Int32 {
        let uk = InternalKey.userKey(target)
        let t = InternalKey.trailer(target)
        return rwlock.withReadLock { uk.withUnsafeBytes { storage.seek($0, t, prev: nil) } }
    }

    func first() -> Int32 { rwlock.withReadLock { storage.links[0] } }

    func next(_ n: Int32) -> Int32 {
        rwlock.withReadLock { storage.links[Int(storage.towerStart[Int(n)])] }
    }

    /// The encoded internal key and value of node `n`.
    func entry(_ n: Int32) -> (key: [UInt8], value: [UInt8]) {
        rwlock.withReadLock {
            let uk = storage.userKey(n)
            var key = [UInt8]()
            key.reserveCapacity(uk.count + InternalKey.trailerSize)
            key.append(contentsOf: uk)
            withUnsafeBytes(of: storage.trailer[Int(n)].littleEndian) { key.append(contentsOf: $0) }
            return (key, Array(storage.value(n)))
        }
    }
}
