/// The phi accrual failure detector (Hayashibara et al.; Cassandra's `FailureDetector`): for
/// each member, the intervals between the arrivals of its new heartbeats (learned first- or
/// second-hand through gossip) estimate how long silence normally lasts; phi is how unlikely
/// the current silence is, on a log10 scale, under an exponential distribution of that mean:
/// `phi = (now − last arrival) / mean × log10(e)`. A member is down while phi exceeds the
/// threshold (8: a silence about 18 mean intervals long).
///
/// A member never heard from has no phi and is not judged down (no evidence). A new
/// generation (the member restarted) starts its history afresh. A message straight from the
/// member (`contact`) is evidence of life too: silence is measured from the later of its last
/// heartbeat and its last message, while only heartbeats feed the intervals.
///
/// Thread safety: a `Sendable` value type.
public struct FailureDetector: Hashable, Sendable {
    /// Intervals remembered per member.
    public static let windowSize = 100

    /// Phi above which a member is down.
    public let threshold: Double
    /// The interval assumed before any was measured (Cassandra: twice the gossip interval).
    public let initialIntervalMs: UInt64
    /// Intervals longer than this are not counted (as Cassandra: a partition or a pause must
    /// not make the detector lenient for the next hundred heartbeats).
    public let intervalMaxMs: UInt64

    private var arrivals: [NodeID: Arrivals] = [:]

    struct Arrivals: Hashable, Sendable {
        var lastMs: UInt64
        var generation: UInt64
        /// The last message straight from the member, if later than `lastMs`.
        var contactMs: UInt64 = 0
        var intervals: [UInt64] = []
        var next = 0
        var sum: UInt64 = 0
    }

    public init(threshold: Double = 8, initialIntervalMs: UInt64, intervalMaxMs: UInt64) {
        precondition(threshold > 0 && initialIntervalMs > 0 && intervalMaxMs >= initialIntervalMs,
                     "failure detector settings must be positive, the maximum at least the initial interval")
        self.threshold = threshold
        self.initialIntervalMs = initialIntervalMs
        self.intervalMaxMs = intervalMaxMs
    }

    /// A new heartbeat of `node` (generation `generation`) arrived at `nowMs`.
    public mutating func heartbeat(_ node: NodeID, generation: UInt64, nowMs: UInt64) {
        guard var entry = arrivals[node], entry.generation == generation else {
            arrivals[node] = Arrivals(lastMs: nowMs, generation: generation)
            return
        }
        let interval = nowMs &- min(nowMs, entry.lastMs)
        entry.lastMs = nowMs
        guard interval <= intervalMaxMs else {
            arrivals[node] = entry
            return
        }
        if entry.intervals.count < Self.windowSize {
            entry.intervals.append(interval)
        } else {
            entry.sum -= entry.intervals[entry.next]
            entry.intervals[entry.next] = interval
            entry.next = (entry.next + 1) % Self.windowSize
        }
        entry.sum += interval
        arrivals[node] = entry
    }

    /// Something arrived straight from `node` at `nowMs` (any message): it is alive now.
    public mutating func contact(_ node: NodeID, nowMs: UInt64) {
        guard var entry = arrivals[node] else { return }
        entry.contactMs = max(entry.contactMs, nowMs)
        arrivals[node] = entry
    }

    /// The mean interval between `node`'s heartbeats (the initial interval until one was measured).
    public func meanIntervalMs(_ node: NodeID) -> Double? {
        guard let entry = arrivals[node] else { return nil }
        guard !entry.intervals.isEmpty else { return Double(initialIntervalMs) }
        return max(1, Double(entry.sum) / Double(entry.intervals.count))
    }

    /// Phi of `node` at `nowMs`, or nil if it was never heard from.
    public func phi(_ node: NodeID, nowMs: UInt64) -> Double? {
        guard let entry = arrivals[node], let mean = meanIntervalMs(node) else { return nil }
        let last = max(entry.lastMs, entry.contactMs)
        let silence = Double(nowMs &- min(nowMs, last))
        return silence / mean * 0.4342944819032518
    }

    /// True if `node` is judged down at `nowMs`.
    public func isDown(_ node: NodeID, nowMs: UInt64) -> Bool {
        (phi(node, nowMs: nowMs) ?? 0) > threshold
    }

    /// When `node` was last heard from (a heartbeat or a message), if ever.
    public func lastHeardMs(_ node: NodeID) -> UInt64? { arrivals[node].map { max($0.lastMs, $0.contactMs) } }
}
