/// What one phase of `cartstore-bench http` (the fill or the timed run) measured.
struct HTTPLoadResult: Sendable {
    /// Every connection's statistics, merged.
    var stats: HTTPLoadStats
    /// Length of the measured interval.
    var seconds: Double
    /// User + system CPU seconds of this process during the interval.
    var clientCPUSeconds: Double
    /// User + system CPU seconds of the `--pids` processes during the interval (nil without
    /// `--pids`, or when one could not be read).
    var serverCPUSeconds: Double?

    /// Requests answered as expected (every outcome) per second.
    var operationsPerSecond: Double { Double(stats.operations) / max(seconds, 1e-9) }

    /// CPU seconds per 1,000 finished requests; nil without requests.
    static func perThousand(_ cpuSeconds: Double?, requests: Int) -> Double? {
        guard let cpuSeconds, requests > 0 else { return nil }
        return cpuSeconds * 1000 / Double(requests)
    }
}
