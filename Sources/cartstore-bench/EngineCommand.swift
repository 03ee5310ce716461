import ArgumentParser
import CartStorage
import Logging

/// `cartstore-bench engine`: a db_bench-like load generator for the storage engine alone.
///
/// Workloads run in the order given, against one engine in `--db` (reopened only when a
/// workload needs a fresh directory or another sync policy). Each prints one result line;
/// write workloads add the engine's write amplification and the bytes on disk.
struct EngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run db_bench-style workloads against the storage engine.",
        discussion: """
        Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).
        fillseq/fillrandom/fillsync start from an empty --db (as db_bench's fresh_db) unless
        --use-existing. Keys are the key index as 16 zero-padded digits, padded with '0' to
        --key-size; values are slices of a buffer that compresses to about half.
        Threads split each workload's operations between them; ops/s is the total.
        Latencies are per operation in microseconds; MB is 2^20 bytes.
        """
    )

    @Option(help: "Comma-separated workloads, run in this order.")
    var benchmarks: String = Workload.defaultList

    @Option(help: "Number of keys (the key space is 0..<num).")
    var num: Int = 1_000_000

    @Option(help: "Reads for readrandom/readmissing/seekrandom, entries for readseq (default: --num).")
    var reads: Int?

    @Option(help: "Puts for overwrite (default: --num) and fillsync (default: --num / 1000, as db_bench).")
    var writes: Int?

    @Option(help: "Key size in bytes.")
    var keySize: Int = 24

    @Option(help: "Value size in bytes.")
    var valueSize: Int = 256

    @Option(help: "Concurrent threads (OS threads) sharing each workload.")
    var threads: Int = 1

    @Option(help: "WAL sync policy: always, none, interval:MS (fillsync always uses always).")
    var sync = SyncArgument(.none)

    @Option(help: "Block compression: none, zlib (level 1), zlib:LEVEL.")
    var compression = CompressionArgument(.zlib(level: 1))

    @Option(help: "Block cache capacity in bytes (K/M/G suffixes allowed; 0 disables).")
    var cacheSize = ByteCountArgument(64 << 20)

    @Option(help: "Memtable size in bytes (K/M/G suffixes allowed).")
    var memtableSize = ByteCountArgument(64 << 20)

    @Option(help: "Target uncompressed data block size in bytes (K/M suffixes allowed; engine default 16K).")
    var blockSize = ByteCountArgument(16 << 10)

    @Option(help: "Data directory (only files CartStore owns are ever deleted).")
    var db: String = "/tmp/cartstore-bench"

    @Flag(help: "Keep the data in --db: no wiping, not even for fill workloads.")
    var useExisting = false

    @Option(help: "Seed of every key order.")
    var seed: UInt64 = 1

    @Flag(help: "Print the engine's statistics after each workload.")
    var stats = false

    @Flag(help: "Show the engine's info-level log (write stalls, recovery).")
    var verbose = false

    func validate() throws {
        guard num >= 1 && num <= Int(UInt32.max) else { throw ValidationError("--num must be in 1...\(UInt32.max)") }
        guard (1...WriteBatch.keyBytesMax).contains(keySize) else { throw ValidationError("--key-size must be in 1...\(WriteBatch.keyBytesMax)") }
        guard valueSize >= 0 && valueSize <= 16 << 20 else { throw ValidationError("--value-size must be in 0...\(16 << 20)") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in 1...1024") }
        guard (reads ?? 0) >= 0, (writes ?? 0) >= 0 else { throw ValidationError("--reads and --writes must not be negative") }
        guard !db.isEmpty else { throw ValidationError("--db must not be empty") }
        _ = try parsedWorkloads()
    }

    func parsedWorkloads() throws -> [Workload] {
        try benchmarks.split(separator: ",").map { name in
            let trimmed = name.trimmingSpaces
            guard let w = Workload(rawValue: trimmed) else {
                throw ValidationError("unknown workload '\(trimmed)'; known: \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return w
        }
    }

    func run() throws {
        let workloads = try parsedWorkloads()
        let database = try Database(directory: db, options: engineOptions(), wipe: !useExisting)
        printHeader()
        let values = ValueSource(valueSize: valueSize)
        var failure: BenchError?
        for (index, workload) in workloads.enumerated() {
            do {
                try runWorkload(workload, index: index, database: database, values: values)
            } catch {
                failure = error
                break
            }
        }
        do { try database.close() } catch { failure = failure ?? error }
        if let failure { throw failure }
        if let peak = SystemProbe.peakResidentBytes() {
            print("peak RSS     : \(Format.megabytes(peak)) (VmHWM)")
        }
    }

    private func engineOptions() -> StorageOptions {
        var o = StorageOptions()
        o.sync = sync.policy
        o.compression = compression.compression
        o.blockCacheBytes = cacheSize.bytes
        o.memtableBytes = memtableSize.bytes
        o.blockBytes = blockSize.bytes
        var logger = Logger(label: "cartstore.storage")
        logger.logLevel = verbose ? .info : .warning
        o.logger = logger
        return o
    }

    private func operations(_ workload: Workload) -> Int {
        switch workload {
        case .fillseq, .fillrandom: return num
        case .overwrite: return writes ?? num
        case .fillsync: return writes ?? max(1, num / 1000)
        case .readrandom, .readmissing, .readseq, .seekrandom, .readwhilewriting: return reads ?? num
        case .compact: return 1
        }
    }

    private func runWorkload(_ workload: Workload, index: Int, database: Database, values: ValueSource) throws(BenchError) {
        if workload.wantsFreshDatabase && !useExisting { try database.makeFresh() }
        let durableWrites = workload == .fillsync || workload == .readwhilewriting
        let engine = try database.engine(sync: durableWrites ? .always : sync.policy)
        let seedBase = seed &+ UInt64(1000 * index)
        let order = workload == .fillrandom ? SplitMix64.shuffled(count: num, seed: seedBase &+ 999) : []
        let readers = workload == .readwhilewriting ? ReadersRunning(threads) : nil
        let context = WorkloadContext(engine: engine, workload: workload, keys: KeyFormatter(keySize: keySize),
                                      values: values, valueSize: valueSize, num: num, ops: operations(workload),
                                      threads: threads, seedBase: seedBase, order: order, readersRunning: readers)
        let run = try ThreadRunner.run(threads: threads + (readers == nil ? 0 : 1)) { context.run(thread: $0) }
        database.used()
        var total = ThreadStats()
        var writer: ThreadStats?
        for (t, r) in run.results.enumerated() {
            if t == threads { writer = r } else { total.merge(r) }
        }
        if let e = total.error ?? writer?.error { throw .storage(workload: workload.rawValue, e) }
        // readwhilewriting: the readers' time, not the writer's last put.
        let nanoseconds = readers == nil ? run.nanoseconds : max(1, total.endNanoseconds &- run.start)

        var extra: [String] = []
        if workload.reportsFound { extra.append("found \(total.found)/\(total.ops)") }
        if let writer { extra.append("writer \(writer.ops) puts") }
        if workload.isWrite || workload == .compact {
            let s = engine.stats()
            extra.append("wamp " + Format.fixed(s.writeAmplification, 2))
            extra.append("disk " + Format.megabytes(try SystemProbe.bytesOnDisk(db)))
        }
        print(Format.resultLine(name: workload.rawValue, stats: total, nanoseconds: nanoseconds, extra: extra))
        if stats {
            print(engine.stats().description.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
    }

    private func printHeader() {
        let compressed = Int((Double(valueSize) * 0.5).rounded())
        print("CartStorage:  cartstore-bench engine")
        print("Keys:         \(keySize) bytes each")
        print("Values:       \(valueSize) bytes each (\(compressed) bytes after compression)")
        print("Entries:      \(num)")
        print("Threads:      \(threads)")
        print("Sync:         \(sync)")
        print("Compression:  \(compression)")
        print("Block cache:  \(cacheSize)   Memtable: \(memtableSize)   Block: \(blockSize)")
        print("DB:           \(db)\(useExisting ? " (existing)" : "")")
        print("Latencies in us per operation; MB = 2^20 bytes; wamp = (flushed + compacted bytes) / user bytes so far")
        print(String(repeating: "-", count: 100))
    }
}

/// The engine under test and the directory it lives in; reopens it when a workload needs a
/// fresh directory or another sync policy.
final class Database {
    let directory: String
    let options: StorageOptions
    private var current: StorageEngine?
    private var currentSync: StorageOptions.SyncPolicy?
    /// True from a wipe until a workload has run.
    private var fresh: Bool

    init(directory: String, options: StorageOptions, wipe: Bool) throws(BenchError) {
        self.directory = directory
        self.options = options
        if wipe { try SystemProbe.wipeDataDirectory(directory) }
        fresh = wipe
    }

    func engine(sync: StorageOptions.SyncPolicy) throws(BenchError) -> StorageEngine {
        if let current, currentSync == sync { return current }
        try close()
        var o = options
        o.sync = sync
        do {
            let e = try StorageEngine.open(directory, options: o)
            current = e
            currentSync = sync
            return e
        } catch {
            throw .storage(workload: "open \(directory)", error)
        }
    }

    func used() { fresh = false }

    /// Wipes the directory unless nothing ran since the last wipe.
    func makeFresh() throws(BenchError) {
        if fresh { return }
        try close()
        try SystemProbe.wipeDataDirectory(directory)
        fresh = true
    }

    func close() throws(BenchError) {
        guard let e = current else { return }
        current = nil
        currentSync = nil
        do { try e.close() } catch { throw .storage(workload: "close \(directory)", error) }
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
