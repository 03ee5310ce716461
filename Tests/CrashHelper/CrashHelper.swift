import CartStorage
import CartTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Child process of the crash tests. Opens the engine in DIR with `sync = always` and a small
/// memtable, then writes `CrashWorkload` batches from several threads, printing
/// `ACK <thread> <batch>` on stdout only after each batch's write returned. Runs until killed
/// (the test sends SIGKILL) or until `--batches` per thread are done.
///
/// Usage: cartstore-crash-helper DIR SEED [threads=4] [memtableBytes=32768] [batches=1000000] [firstBatch=0]
@main
struct CrashHelper {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 3, let seed = UInt64(args[2]) else {
            emit(2, "usage: cartstore-crash-helper DIR SEED [threads] [memtableBytes] [batches] [firstBatch]")
            exit(2)
        }
        let dir = args[1]
        let threads = args.count > 3 ? Int(args[3]) ?? 4 : 4
        let memtable = args.count > 4 ? Int(args[4]) ?? 32768 : 32768
        let batches = args.count > 5 ? Int(args[5]) ?? 1_000_000 : 1_000_000
        let firstBatch = args.count > 6 ? Int(args[6]) ?? 0 : 0
        var options = StorageOptions()
        options.memtableBytes = memtable
        options.blockBytes = 1024
        options.sync = .always
        options.logger.logLevel = .error
        // Small levels make compactions run all the time (the compaction crash test).
        if let base = getenv("CARTSTORE_HELPER_LEVEL_BASE").flatMap({ Int(String(cString: $0)) }) {
            options.levelBaseBytes = base
            options.targetSegmentBytes = max(16 * 1024, base / 4)
            options.level0CompactionTrigger = 2
            options.level0StopWritesTrigger = 6
            options.levelSizeMultiplier = 3
        }
        let engine: StorageEngine
        do {
            engine = try StorageEngine.open(dir, options: options)
        } catch {
            emit(2, "open failed: \(error)")
            exit(3)
        }
        emit(1, "READY \(getpid())")
        let workload = CrashWorkload(seed: seed)
        let out = OutputLock()
        var tids: [pthread_t] = []
        for t in 0..<threads {
            let ctx = Unmanaged.passRetained(Worker(engine: engine, workload: workload, thread: t,
                                                    first: firstBatch, count: batches, out: out)).toOpaque()
            var tid = pthread_t()
            pthread_create(&tid, nil, workerEntry, ctx)
            tids.append(tid)
        }
        for t in tids { pthread_join(t, nil) }
        do { try engine.close() } catch { emit(2, "close failed: \(error)"); exit(4) }
        emit(1, "DONE")
    }
}

final class OutputLock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    func line(_ s: String) {
        pthread_mutex_lock(&m)
        emit(1, s)
        pthread_mutex_unlock(&m)
    }
}

final class Worker: @unchecked Sendable {
    let engine: StorageEngine
    let workload: CrashWorkload
    let thread: Int
    let first: Int
    let count: Int
    let out: OutputLock

    init(engine: StorageEngine, workload: CrashWorkload, thread: Int, first: Int, count: Int, out: OutputLock) {
        self.engine = engine
        self.workload = workload
        self.thread = thread
        self.first = first
        self.count = count
        self.out = out
    }

    func run() {
        for n in first..<(first + count) {
            var batch = WriteBatch()
            for op in workload.batch(thread: thread, number: n) {
                switch op {
                case let .put(k, v): batch.put(Array(k.utf8), v)
                case let .delete(k): batch.delete(Array(k.utf8))
                }
            }
            do {
                try engine.write(batch)
            } catch {
                out.line("ERROR \(thread) \(n) \(error)")
                exit(5)
            }
            out.line("ACK \(thread) \(n)")
        }
    }
}

/// Writes one line to a file descriptor with a single write(2) (atomic on a pipe for short
/// lines), bypassing stdio buffers that a SIGKILL would lose.
func emit(_ fd: Int32, _ line: String) {
    let bytes = Array((line + "\n").utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n <= 0 { return }
        done += n
    }
}

/// pthread entry point (a global function: closures inside `main` would be main-actor isolated).
func workerEntry(_ arg: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let arg else { return nil }
    Unmanaged<Worker>.fromOpaque(arg).takeRetainedValue().run()
    return nil
}
