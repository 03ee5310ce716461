import CartCluster
import HeapModule

/// The node's pending timers, in one heap, with at most one wake-up armed for the earliest:
/// most timers (a request's deadline, its replica timeouts) are set hundreds of times a second
/// and matter only if the request is still open, so they cost a heap insert each instead of a
/// task on an event loop.
///
/// Thread safety: a value; the node runtime keeps it in a `Mutex` touched on its queue.
struct RuntimeTimers {
    private struct Entry: Comparable {
        let atMs: UInt64
        let sequence: UInt64
        let timer: NodeTimer

        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.atMs, lhs.sequence) < (rhs.atMs, rhs.sequence) }
        static func == (lhs: Entry, rhs: Entry) -> Bool { (lhs.atMs, lhs.sequence) == (rhs.atMs, rhs.sequence) }
    }

    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0
    /// When the armed wake-up is due, if one is.
    private var armedAtMs: UInt64?

    /// Timers pending.
    var count: Int { heap.count }

    mutating func add(_ timer: NodeTimer, atMs: UInt64) {
        sequence += 1
        heap.insert(Entry(atMs: atMs, sequence: sequence, timer: timer))
    }

    /// Arms a wake-up for the earliest timer if none is armed or the armed one is later; returns
    /// its delay from `nowMs` in ms (one more than the difference: one millisecond late rather
    /// than early, since the wake-up runs on the monotonic clock and the node compares with the
    /// wall clock), or nil if nothing needs arming.
    mutating func armIfEarlier(nowMs: UInt64) -> UInt64? {
        guard let earliest = heap.min?.atMs else { return nil }
        if let armedAtMs, armedAtMs <= earliest { return nil }
        armedAtMs = earliest
        return (earliest > nowMs ? earliest - nowMs : 0) + 1
    }

    /// The timers due at `nowMs`, earliest first; the armed wake-up is spent.
    mutating func takeDue(nowMs: UInt64) -> [NodeTimer] {
        armedAtMs = nil
        var due: [NodeTimer] = []
        while let earliest = heap.min, earliest.atMs <= nowMs {
            due.append(heap.removeMin().timer)
        }
        return due
    }
}
