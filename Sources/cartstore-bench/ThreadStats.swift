import CartStorage
import Histogram

/// What one benchmark thread measured. Latencies are recorded in nanoseconds.
struct ThreadStats: Sendable {
    /// Longest latency recorded (larger values are clamped): one hour.
    static let latencyNanosecondsMax: UInt64 = 3_600_000_000_000

    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: latencyNanosecondsMax,
                                    numberOfSignificantValueDigits: .three)
    var ops = 0
    var bytes = 0
    var found = 0
    var error: StorageError?
    /// When the thread finished its share (monotonic nanoseconds; 0 if not recorded).
    var endNanoseconds: UInt64 = 0

    /// Records one operation that started at `start` (from `monotonicNanoseconds()`).
    @inline(__always)
    mutating func recordOp(since start: UInt64) {
        let elapsed = monotonicNanoseconds() &- start
        latency.record(min(elapsed, Self.latencyNanosecondsMax))
        ops += 1
    }

    mutating func merge(_ other: ThreadStats) {
        latency.add(other.latency)
        ops += other.ops
        bytes += other.bytes
        found += other.found
        error = error ?? other.error
        endNanoseconds = max(endNanoseconds, other.endNanoseconds)
    }
}
