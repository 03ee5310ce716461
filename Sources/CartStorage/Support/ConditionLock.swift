#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A pthread mutex with two condition variables: `wait`/`broadcast` for foreground threads
/// (the writer queue, stalls, callers of `flush`), and `waitBackground`/`signalBackground` for
/// the background thread alone, so that the many per-write wake-ups never wake it.
///
/// It records its owner, so that functions documented "lock held" check it (`assertHeld`, a
/// precondition: one atomic load).
///
/// Thread safety: all methods may be called from any thread. The waits must be called with the
/// lock held. The lock is not recursive.
final class ConditionLock: @unchecked Sendable {
    /// The owning thread's id while locked, 0 otherwise.
    private let owner = Atomic<UInt>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private let backgroundCond: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        backgroundCond = .allocate(capacity: 1)
        backgroundCond.initialize(to: pthread_cond_t())
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(cond, &attr)
        pthread_cond_init(backgroundCond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_cond_destroy(backgroundCond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        backgroundCond.deallocate()
        mutex.deallocate()
    }

    @inline(__always) func lock() {
        pthread_mutex_lock(mutex)
        owner.store(Self.currentThread, ordering: .relaxed)
    }

    @inline(__always) func unlock() {
        owner.store(0, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    @inline(__always) static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))) }

    /// True if the calling thread holds the lock.
    var isHeldByCurrentThread: Bool { owner.load(ordering: .relaxed) == Self.currentThread }

    /// Traps unless the calling thread holds the lock: the check behind "(lock held)" in a
    /// function's documentation.
    @inline(__always) func assertHeld(_ function: StaticString = #function) {
        precondition(isHeldByCurrentThread, "\(function) requires the engine lock")
    }

    @inline(__always)
    func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Atomically releases the lock and waits for a broadcast; the lock is held again on return.
    func wait() {
        assertHeld()
        owner.store(0, ordering: .relaxed)
        pthread_cond_wait(cond, mutex)
        owner.store(Self.currentThread, ordering: .relaxed)
    }

    /// The background thread's wait; `timeoutNanoseconds` bounds it when given.
    func waitBackground(timeoutNanoseconds: UInt64? = nil) {
        assertHeld()
        owner.store(0, ordering: .relaxed)
        defer { owner.store(Self.currentThread, ordering: .relaxed) }
        guard let timeoutNanoseconds else {
            pthread_cond_wait(backgroundCond, mutex)
            return
        }
        var deadline = Self.deadline(after: timeoutNanoseconds)
        pthread_cond_timedwait(backgroundCond, mutex, &deadline)
    }

    /// Wakes the background thread.
    func signalBackground() { pthread_cond_signal(backgroundCond) }

    private static func deadline(after timeoutNanoseconds: UInt64) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = UInt64(now.tv_nsec) + timeoutNanoseconds % 1_000_000_000
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(timeoutNanoseconds / 1_000_000_000) + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        return deadline
    }

    func broadcast() { pthread_cond_broadcast(cond) }
}

/// Monotonic clock reading in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
