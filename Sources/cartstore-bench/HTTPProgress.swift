#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The coordinating thread's once-a-second progress line (ops/s of the last second, errors
/// so far), written to stderr.
struct HTTPProgress {
    let control: HTTPLoadControl
    private var origin: UInt64
    private var lastTime: UInt64
    private var lastCompleted: Int

    init(control: HTTPLoadControl, since origin: UInt64) {
        self.control = control
        self.origin = origin
        lastTime = origin
        lastCompleted = control.completed.load(ordering: .relaxed)
    }

    /// Counts seconds from `time` on (the start of the measured interval).
    mutating func restart(at time: UInt64) {
        origin = time
        lastTime = time
        lastCompleted = control.completed.load(ordering: .relaxed)
    }

    /// Sleeps until `deadline` (or, without one, while `condition` holds, checking every 20 ms),
    /// printing `line(elapsed seconds, ops/s of the last second, errors so far)` each second.
    mutating func run(until deadline: UInt64?, while condition: () -> Bool,
                      line: (Int, String, Int) -> String) {
        var nextLine = lastTime + 1_000_000_000
        while condition() {
            let now = monotonicNanoseconds()
            if let deadline, now >= deadline { break }
            if now >= nextLine {
                let completed = control.completed.load(ordering: .relaxed)
                let rate = Double(completed - lastCompleted) * 1e9 / Double(max(now - lastTime, 1))
                StandardError.line(line(Int((now - origin + 500_000_000) / 1_000_000_000), Format.fixed(rate, 0),
                                        control.errors.load(ordering: .relaxed)))
                lastCompleted = completed
                lastTime = now
                nextLine = now + 1_000_000_000
            }
            var wake = min(nextLine, now + 20_000_000)
            if let deadline { wake = min(wake, deadline) }
            sleepNanoseconds(wake > now ? wake - now : 0)
        }
    }

    private func sleepNanoseconds(_ ns: UInt64) {
        guard ns > 0 else { return }
        var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
