import Histogram

/// What `cartstore-bench http` measured: a latency histogram per outcome (microseconds) and
/// error counts by kind. Each event loop keeps one (`HTTPLoadRecorder`); they are merged at
/// the end.
struct HTTPLoadStats: Sendable {
    /// Longest latency recorded (larger ones are clamped): 60 s, in microseconds.
    static let latencyMicrosecondsMax: UInt64 = 60_000_000

    /// Indexed by `HTTPOutcome.rawValue`.
    var latency: [Histogram<UInt64>]
    /// Failed requests by kind: `connect`, `reset`, `protocol`, `timeout`,
    /// `http_<status> <error kind>`.
    var errors: [String: Int] = [:]
    /// When a fill connection ran out of users (monotonic nanoseconds; 0 if none did).
    var endNanoseconds: UInt64 = 0

    init() {
        latency = HTTPOutcome.allCases.map { _ in Self.makeHistogram() }
    }

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: latencyMicrosecondsMax,
                  numberOfSignificantValueDigits: .three)
    }

    /// Records one request of `outcome` that took `nanoseconds`.
    @inline(__always)
    mutating func record(_ outcome: HTTPOutcome, nanoseconds: UInt64) {
        latency[outcome.rawValue].record(min(nanoseconds / 1000, Self.latencyMicrosecondsMax))
    }

    mutating func recordError(_ kind: String) {
        errors[kind, default: 0] += 1
    }

    func count(_ outcome: HTTPOutcome) -> Int { Int(latency[outcome.rawValue].totalCount) }

    /// Requests answered as expected (every outcome, `remove_missing` included).
    var operations: Int { HTTPOutcome.allCases.reduce(0) { $0 + count($1) } }

    var errorCount: Int { errors.values.reduce(0, +) }

    /// Every request that finished, well or not (the denominator of CPU per request).
    var requests: Int { operations + errorCount }

    /// The latencies of every outcome together.
    var totalLatency: Histogram<UInt64> {
        var total = Self.makeHistogram()
        for h in latency { total.add(h) }
        return total
    }

    mutating func merge(_ other: HTTPLoadStats) {
        for i in latency.indices { latency[i].add(other.latency[i]) }
        for (kind, n) in other.errors { errors[kind, default: 0] += n }
        endNanoseconds = max(endNanoseconds, other.endNanoseconds)
    }
}
