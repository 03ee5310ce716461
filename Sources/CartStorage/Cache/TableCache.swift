import Synchronization

/// Bounds the segments held open: each open `SegmentReader` holds a file descriptor plus its
/// index block and bloom filter in memory, so at most `capacity` of them are kept (least
/// recently used ones are dropped, per shard) and memory stays bounded by configuration, not
/// data size (LevelDB's table cache, sized by `StorageOptions.maxOpenFiles`).
///
/// Sharded by file number (up to 16 shards, each with its own lock and an equal part of the
/// capacity), so that concurrent readers of different segments do not contend.
///
/// Ownership: a reader closes its descriptor when the last reference goes away, so a read or
/// scan in progress keeps its reader (and file) even if the cache drops it meanwhile.
/// Thread safety: all methods may be called from any thread.
final class TableCache: Sendable {
    struct State {
        var readers: [UInt64: (reader: SegmentReader, used: UInt64)] = [:]
        var tick: UInt64 = 0
    }

    final class Shard: Sendable {
        let capacity: Int
        let state = Mutex(State())
        init(capacity: Int) { self.capacity = capacity }
    }

    let capacity: Int
    let directory: DataDirectory
    let blocks: BlockCache?
    private let shards: [Shard]

    init(directory: DataDirectory, capacity: Int, blocks: BlockCache?) {
        let total = max(1, capacity)
        self.directory = directory
        self.capacity = total
        self.blocks = blocks
        let count = min(16, total)
        // Shard capacities add up to `capacity` exactly.
        shards = (0..<count).map { i in Shard(capacity: total / count + (i < total % count ? 1 : 0)) }
    }

    private func shard(_ number: UInt64) -> Shard { shards[Int(number % UInt64(shards.count))] }

    /// The reader of segment `number`, opening (and verifying) it on a miss. After the engine
    /// closed, a miss reports `.closed`: another engine may own the directory by then.
    func reader(_ number: UInt64) throws(StorageError) -> SegmentReader {
        let shard = shard(number)
        if let r = shard.state.withLock({ s -> SegmentReader? in
            s.tick += 1
            guard let e = s.readers[number] else { return nil }
            s.readers[number] = (e.reader, s.tick)
            return e.reader
        }) { return r }
        if directory.isClosed { throw .closed }
        let opened: SegmentReader
        do {
            opened = try SegmentReader.open(fileSystem: directory.fileSystem, path: directory.file(FileNames.segment(number)),
                                            fileNumber: number, cache: blocks)
        } catch {
            // A file a live `SegmentFile` names is never deleted while the engine is open.
            if directory.isClosed { throw .closed }
            throw error
        }
        return shard.state.withLock { s in
            if let e = s.readers[number] { return e.reader } // another thread opened it first
            if s.readers.count >= shard.capacity, let victim = s.readers.min(by: { $0.value.used < $1.value.used })?.key {
                s.readers[victim] = nil
            }
            s.tick += 1
            s.readers[number] = (opened, s.tick)
            return opened
        }
    }

    /// Forgets a deleted segment.
    func evict(_ number: UInt64) { _ = shard(number).state.withLock { $0.readers.removeValue(forKey: number) } }

    /// Drops every open reader (at close).
    func evictAll() { for s in shards { s.state.withLock { $0.readers = [:] } } }

    var openCount: Int { shards.reduce(0) { total, s in total + s.state.withLock { $0.readers.count } } }
}
