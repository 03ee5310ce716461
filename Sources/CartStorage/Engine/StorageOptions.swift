import Logging

/// Configuration of a `StorageEngine`. Every limit has its unit last in its name.
public struct StorageOptions: Sendable {
    /// When a write is made durable.
    public enum SyncPolicy: Sendable, Equatable, CustomStringConvertible {
        /// fdatasync before the write is acknowledged (default). Concurrent writers share one
        /// sync (group commit).
        case always
        /// fdatasync at most every `milliseconds`; a crash of the machine (not of the process)
        /// may lose the last interval of acknowledged writes.
        case interval(milliseconds: Int)
        /// Never sync explicitly; the OS writes back when it likes.
        case none

        public var description: String {
            switch self {
            case .always: return "always"
            case let .interval(ms): return "interval(\(ms)ms)"
            case .none: return "none"
            }
        }
    }

    /// Who runs flushes and compactions.
    public enum BackgroundMode: Sendable, Equatable {
        /// A dedicated background thread (the default).
        case thread
        /// No thread: flushes and compactions run only when the driver calls
        /// `StorageEngine.runBackgroundWork`, or inline on the calling thread when a write,
        /// `flush`, `compactAll` or `waitForBackgroundWork` needs them to make progress. With one
        /// calling thread the engine's file operations are then deterministic (the cluster
        /// simulator and the fault tests schedule background work as events).
        case manual
    }

    /// How data blocks are stored.
    public enum Compression: Sendable, Equatable {
        case none
        /// zlib at `level` 1...9; a block is stored compressed only if that saves ≥ 1/8.
        case zlib(level: Int)
    }

    public var sync: SyncPolicy = .always
    /// A memtable becomes immutable and is flushed once it holds this many bytes.
    public var memtableBytes: Int = 64 * 1024 * 1024
    /// Target uncompressed size of a data block.
    public var blockBytes: Int = 16 * 1024
    public var compression: Compression = .zlib(level: 1)
    public var bloomBitsPerKey: Int = BloomFilter.bitsPerKeyDefault
    /// Capacity of the shared block cache (0 disables it).
    public var blockCacheBytes: Int = 64 * 1024 * 1024
    /// Compaction (leveled, LevelDB/RocksDB style): L0 holds overlapping flushed segments; each
    /// deeper level holds non-overlapping segments and is `levelSizeMultiplier` times larger
    /// than the one above. See README "Compaction".
    ///
    /// Number of L0 segments that triggers an L0 → L1 compaction.
    public var level0CompactionTrigger: Int = 4
    /// Number of L0 segments at which writes stall until compaction catches up.
    public var level0StopWritesTrigger: Int = 12
    /// Target size of L1, in bytes; level n ≥ 1 targets `levelBaseBytes * multiplier^(n-1)`.
    public var levelBaseBytes: Int = 256 * 1024 * 1024
    public var levelSizeMultiplier: Int = 10
    /// Compaction output is cut into segments of about this size (at user-key boundaries).
    public var targetSegmentBytes: Int = 8 * 1024 * 1024
    /// Set false to disable background compaction (tests and bulk loads).
    public var compactionEnabled: Bool = true
    /// A manifest larger than this is rewritten as one snapshot edit (RocksDB's
    /// `max_manifest_file_size`), keeping replay at open short.
    public var manifestRolloverBytes: Int = 4 * 1024 * 1024
    /// Most segments held open at once, each with a descriptor, its index block and its bloom
    /// filter in memory (least recently used ones are closed): with `blockBytes` 16 KiB and 10
    /// bloom bits per key that is about 1% of a segment's size.
    public var maxOpenFiles: Int = 1000
    /// Create the directory if it does not exist.
    public var createIfMissing: Bool = true
    /// Every file operation goes through this (tests and the simulator pass a
    /// `MemoryFileSystem` or a `FaultInjectingFileSystem`).
    public var fileSystem: any FileSystem = PosixFileSystem()
    public var backgroundMode: BackgroundMode = .thread
    public var logger: Logger = Logger(label: "cartstore.storage")

    public init() {}

    func validate() throws(StorageError) {
        guard memtableBytes >= 4 * 1024 else { throw .invalidArgument("memtableBytes must be at least 4096, got \(memtableBytes)") }
        guard blockBytes >= 256 && blockBytes <= 4 * 1024 * 1024 else { throw .invalidArgument("blockBytes must be in 256...4194304, got \(blockBytes)") }
        guard bloomBitsPerKey >= 1 && bloomBitsPerKey <= 64 else { throw .invalidArgument("bloomBitsPerKey must be in 1...64") }
        guard blockCacheBytes >= 0 else { throw .invalidArgument("blockCacheBytes must not be negative") }
        if case let .zlib(level) = compression, !(1...9).contains(level) { throw .invalidArgument("zlib level must be in 1...9, got \(level)") }
        guard manifestRolloverBytes >= 1024 else { throw .invalidArgument("manifestRolloverBytes must be at least 1024") }
        guard maxOpenFiles >= 1 else { throw .invalidArgument("maxOpenFiles must be at least 1") }
        guard level0CompactionTrigger >= 2 else { throw .invalidArgument("level0CompactionTrigger must be at least 2") }
        guard level0StopWritesTrigger > level0CompactionTrigger else { throw .invalidArgument("level0StopWritesTrigger must exceed level0CompactionTrigger") }
        guard levelBaseBytes >= 64 * 1024 else { throw .invalidArgument("levelBaseBytes must be at least 65536") }
        guard levelSizeMultiplier >= 2 else { throw .invalidArgument("levelSizeMultiplier must be at least 2") }
        guard targetSegmentBytes >= 16 * 1024 else { throw .invalidArgument("targetSegmentBytes must be at least 16384") }
        if case let .interval(ms) = sync, ms < 1 { throw .invalidArgument("sync interval must be at least 1 ms") }
    }

    /// Target total size of level `level` (≥ 1), in bytes.
    func levelMaxBytes(_ level: Int) -> Double {
        var b = Double(levelBaseBytes)
        if level > 1 { for _ in 2...level { b *= Double(levelSizeMultiplier) } }
        return b
    }

    var segmentWriterOptions: SegmentWriter.Options {
        var o = SegmentWriter.Options()
        o.blockSize = blockBytes
        o.bloomBitsPerKey = bloomBitsPerKey
        if case let .zlib(level) = compression { o.zlibLevel = Int32(level) } else { o.zlibLevel = nil }
        return o
    }
}
