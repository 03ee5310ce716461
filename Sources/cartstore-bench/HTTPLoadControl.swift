import Synchronization

/// What the coordinating thread and the connections of one `cartstore-bench http` run share:
/// the phase, and counters for the progress lines and the fill.
final class HTTPLoadControl: Sendable {
    /// The phases of a run, in order.
    enum Phase: Int {
        /// Requests flow but are not recorded.
        case warmup = 0
        /// Requests that finish now are recorded.
        case measuring = 1
        /// The measured interval is over: nothing more is recorded; connections are stopping.
        case finished = 2
    }

    private let phaseValue: Atomic<Int>
    /// Requests answered as expected so far (all phases).
    let completed = Atomic<Int>(0)
    /// Failed requests so far (all phases).
    let errors = Atomic<Int>(0)
    /// The next user a fill connection loads.
    let nextFillUser = Atomic<Int>(0)
    /// Connections that have stopped for good.
    let connectionsDone = Atomic<Int>(0)

    init(phase: Phase) { phaseValue = Atomic(phase.rawValue) }

    var phase: Phase { Phase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .finished }

    func enter(_ phase: Phase) { phaseValue.store(phase.rawValue, ordering: .releasing) }

    @inline(__always)
    var isMeasuring: Bool { phaseValue.load(ordering: .relaxed) == Phase.measuring.rawValue }
}
