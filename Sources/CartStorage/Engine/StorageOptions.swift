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
    /// Create the directory if it does not exist.
    public var createIfMissing: Bool = true
    public var logger: Logger = Logger(label: "cartstore.storage")

    public init() {}

    func validate() throws(StorageError) {
        guard memtableBytes >= 4 * 1024 else { throw .invalidArgument("memtableBytes must be at least 4096, got \(memtableBytes)") }
        guard blockBytes >= 256 && blockBytes <= 4 * 1024 * 1024 else { throw .invalidArgument("blockBytes must be in 256...4194304, got \(blockBytes)") }
        guard bloomBitsPerKey >= 1 && bloomBitsPerKey <= 64 else { throw .invalidArgument("bloomBitsPerKey must be in 1...64") }
        guard blockCacheBytes >= 0 else { throw .invalidArgument("blockCacheBytes must not be negative") }
        if case let .zlib(level) = compression, !(1...9).contains(level) { throw .invalidArgument("zlib level must be in 1...9, got \(level)") }
        if case let .interval(ms) = sync, ms < 1 { throw .invalidArgument("sync interval must be at least 1 ms") }
    }

    var segmentWriterOptions: SegmentWriter.Options {
        var o = SegmentWriter.Options()
        o.blockSize = blockBytes
        o.bloomBitsPerKey = bloomBitsPerKey
        if case let .zlib(level) = compression { o.zlibLevel = Int32(level) } else { o.zlibLevel = nil }
        return o
    }
}
