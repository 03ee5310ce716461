import Synchronization

/// How many `readwhilewriting` readers are still running; the writer stops when none is.
final class ReadersRunning: Sendable {
    private let count: Atomic<Int>

    init(_ readers: Int) { count = Atomic(readers) }

    var any: Bool { count.load(ordering: .acquiring) > 0 }

    func finished() { count.subtract(1, ordering: .releasing) }
}
