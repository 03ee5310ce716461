import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one body on each of N OS threads (pthreads, not a pool: 8 threads are 8 concurrent
/// callers even on 2 cores, which is what group commit needs to be measured).
///
/// All threads are created first and wait at a start line; the clock starts when the last one
/// is ready and stops when the last one has finished.
enum ThreadRunner {
    /// Results in thread order, the elapsed wall time, and the clock reading at the start.
    static func run<Result: Sendable>(threads: Int, _ body: @escaping @Sendable (Int) -> Result) throws(BenchError) -> (nanoseconds: UInt64, results: [Result], start: UInt64) {
        let shared = StartLine<Result>(threads: threads)
        var ids: [pthread_t] = []
        for t in 0..<threads {
            do {
                ids.append(try spawn {
                    shared.ready.add(1, ordering: .acquiringAndReleasing)
                    while !shared.go.load(ordering: .acquiring) { sched_yield() }
                    let r = body(t)
                    shared.results.withLock { $0[t] = r }
                })
            } catch {
                // Let the threads already started run, so they can be joined.
                shared.go.store(true, ordering: .releasing)
                for id in ids { pthread_join(id, nil) }
                throw error
            }
        }
        while shared.ready.load(ordering: .acquiring) < threads { sched_yield() }
        let start = monotonicNanoseconds()
        shared.go.store(true, ordering: .releasing)
        for id in ids { pthread_join(id, nil) }
        let elapsed = monotonicNanoseconds() - start
        let results = shared.results.withLock { $0.compactMap { $0 } }
        return (elapsed, results, start)
    }

    private final class StartLine<Result: Sendable>: Sendable {
        let ready = Atomic<Int>(0)
        let go = Atomic<Bool>(false)
        let results: Mutex<[Result?]>

        init(threads: Int) { results = Mutex([Result?](repeating: nil, count: threads)) }
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private static func spawn(_ body: @escaping @Sendable () -> Void) throws(BenchError) -> pthread_t {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var id = pthread_t()
        let rc = pthread_create(&id, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<Body>.fromOpaque(arg).takeRetainedValue().run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw .system(call: "pthread_create", errno: rc)
        }
        return id
    }
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
