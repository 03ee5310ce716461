import Foundation
import Synchronization

/// Milliseconds since the Unix epoch that never go backwards within a process (an NTP step back
/// holds the clock still until real time catches up), which is what `ClusterNode` needs: its
/// message ids and its deadlines assume a clock that moves forward.
///
/// Thread safety: `Sendable` (an atomic).
public final class WallClock: Sendable {
    private let last = Atomic<UInt64>(0)

    public init() {}

    /// Now, in ms.
    public func nowMs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let real = UInt64(max(0, spec.tv_sec)) * 1_000 + UInt64(max(0, spec.tv_nsec)) / 1_000_000
        var seen = last.load(ordering: .relaxed)
        while true {
            let next = max(seen, real)
            let (exchanged, original) = last.compareExchange(expected: seen, desired: next, ordering: .relaxed)
            if exchanged { return next }
            seen = original
        }
    }
}
