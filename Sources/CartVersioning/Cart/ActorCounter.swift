/// One coordinating replica's quantity changes to one item, as a cumulative series: the exact,
/// bounded counter behind every cart item (Riak's embedded counters, made exact for removals).
///
/// Representation: `plus` and `minus` count every unit this replica ever added to and took from
/// the item in this series; each change is an event `(replica, counter)` and moves the series
/// forward. A removal that observed the series up to some change raises the *reset watermarks*
/// to that change's position: units at or below them are removed, units above survive. Because
/// causal contexts are downward closed per replica, what a removal observed of one replica's
/// changes is always a prefix of its series, which is exactly what a watermark removes: an add
/// concurrent with a remove survives with its own units only, and a removed unit never returns.
///
/// - `checkpoints` remember the series' position after each of its last changes, so that an
///   operation whose context token is a little stale still finds the position it observed; a
///   token older than every remembered position is refused (`CartOperationError.staleContext`).
/// - `cancellations` remove the units of a duplicate application of one operation id (a client
///   retry that reached two coordinators): intervals of the series, counted out where they are
///   above the watermark (see `OperationLog`).
/// - `start` is the event that began the series. A series whose item was garbage-collected (see
///   `CartState.compact`) and then changed again starts anew, and the newer series wins a merge.
///
/// Merge (same replica): the newer series wins; within one series the later position wins and
/// the watermarks, checkpoints and cancellations join. Commutative, associative, idempotent.
///
/// Invariants: checkpoints are non-empty, strictly ascending by counter, the first at or after
/// `start`, positions non-decreasing, the last one the series' latest change; resets do not pass
/// the totals; cancellations are disjoint intervals inside the totals.
/// Thread safety: a `Sendable` value type.
struct ActorCounter: Hashable, Sendable {
    /// The series' totals after one of its changes.
    struct Checkpoint: Hashable, Sendable {
        var counter: UInt64
        var plus: UInt64
        var minus: UInt64
    }

    /// Units `lower..<upper` of the `plus` (or `minus`) series that a duplicate application added.
    struct Cancellation: Hashable, Sendable, Comparable {
        var isMinus: Bool
        var lower: UInt64
        var upper: UInt64

        static func < (lhs: Cancellation, rhs: Cancellation) -> Bool {
            (lhs.isMinus ? 1 : 0, lhs.lower, lhs.upper) < (rhs.isMinus ? 1 : 0, rhs.lower, rhs.upper)
        }
    }

    var start: UInt64
    var resetPlus: UInt64 = 0
    var resetMinus: UInt64 = 0
    /// `addedAtMs` the latest change asserted for the item (see `ItemState.view`).
    var addedAtMs: UInt64
    /// Wall-clock time of the latest change.
    var timestampMs: UInt64
    var checkpoints: [Checkpoint]
    var cancellations: [Cancellation] = []

    /// A series begun by the event `counter` with a change of `delta` units.
    init(counter: UInt64, delta: Int64, addedAtMs: UInt64, timestampMs: UInt64) {
        start = counter
        self.addedAtMs = addedAtMs
        self.timestampMs = timestampMs
        checkpoints = [Checkpoint(counter: counter, plus: delta > 0 ? delta.magnitude : 0, minus: delta < 0 ? delta.magnitude : 0)]
    }

    /// A series from decoded parts the caller has validated.
    init(start: UInt64, resetPlus: UInt64, resetMinus: UInt64, addedAtMs: UInt64, timestampMs: UInt64,
         checkpoints: [Checkpoint], cancellations: [Cancellation]) {
        self.start = start
        self.resetPlus = resetPlus
        self.resetMinus = resetMinus
        self.addedAtMs = addedAtMs
        self.timestampMs = timestampMs
        self.checkpoints = checkpoints
        self.cancellations = cancellations
    }

    /// The latest change.
    var latest: Checkpoint { checkpoints[checkpoints.count - 1] }

    /// Units added and taken that are still counted: above the watermark and not cancelled.
    var livePlus: UInt64 { live(total: latest.plus, reset: resetPlus, isMinus: false) }
    var liveMinus: UInt64 { live(total: latest.minus, reset: resetMinus, isMinus: true) }

    /// This series' share of the item's quantity.
    var contribution: Int64 {
        Int64(clamping: livePlus).subtractingSaturating(Int64(clamping: liveMinus))
    }

    private func live(total: UInt64, reset: UInt64, isMinus: Bool) -> UInt64 {
        guard total > reset else { return 0 }
        var units = total - reset
        for c in cancellations where c.isMinus == isMinus {
            let lower = max(c.lower, reset), upper = min(c.upper, total)
            if upper > lower { units -= min(units, upper - lower) }
        }
        return units
    }

    /// Records the change `delta` made by the event `counter` (later than every event of the
    /// series), keeping the last `checkpointsMax` positions. Returns the interval it occupies.
    mutating func change(by delta: Int64, counter: UInt64, addedAtMs: UInt64, timestampMs: UInt64,
                         checkpointsMax: Int) -> Cancellation {
        var next = latest
        next.counter = counter
        let interval: Cancellation
        if delta >= 0 {
            interval = Cancellation(isMinus: false, lower: next.plus, upper: next.plus + delta.magnitude)
            next.plus += delta.magnitude
        } else {
            interval = Cancellation(isMinus: true, lower: next.minus, upper: next.minus + delta.magnitude)
            next.minus += delta.magnitude
        }
        checkpoints.append(next)
        if checkpoints.count > max(1, checkpointsMax) { checkpoints.removeFirst(checkpoints.count - max(1, checkpointsMax)) }
        self.addedAtMs = addedAtMs
        self.timestampMs = timestampMs
        return interval
    }

    /// What a removal that observed `observed` removes of this series: the position of the last
    /// change it observed (nil: it observed none of the series). Throws `staleContext` if it
    /// observed part of the series older than every remembered position.
    func observedPosition(by observed: CausalContext, replica: ReplicaID) throws(CartOperationError) -> Checkpoint? {
        if let seen = checkpoints.last(where: { observed.contains(Dot(replica: replica, counter: $0.counter)) }) {
            return seen
        }
        if observed.contains(Dot(replica: replica, counter: start)) {
            throw .staleContext(reason: "the context names changes of \(replica) to this item older than the \(checkpoints.count) it remembers")
        }
        return nil
    }

    /// Removes every unit at or below `position`.
    mutating func reset(to position: Checkpoint) {
        resetPlus = max(resetPlus, position.plus)
        resetMinus = max(resetMinus, position.minus)
        cancellations.removeAll { $0.upper <= ($0.isMinus ? resetMinus : resetPlus) }
    }

    /// Counts out the units of a duplicate application (idempotent).
    mutating func cancel(_ interval: Cancellation) {
        guard interval.upper > (interval.isMinus ? resetMinus : resetPlus), !cancellations.contains(interval) else { return }
        cancellations.append(interval)
        cancellations.sort()
    }

    /// The join of two series of the same replica.
    func merged(with other: ActorCounter, checkpointsMax: Int) -> ActorCounter {
        if start != other.start { return start > other.start ? self : other }
        var result = latest.counter >= other.latest.counter ? self : other
        result.resetPlus = max(resetPlus, other.resetPlus)
        result.resetMinus = max(resetMinus, other.resetMinus)
        var positions: [UInt64: Checkpoint] = [:]
        for c in checkpoints + other.checkpoints { positions[c.counter] = c }
        result.checkpoints = Array(positions.values.sorted { $0.counter < $1.counter }.suffix(max(1, checkpointsMax)))
        result.cancellations = Array(Set(cancellations + other.cancellations)).sorted()
        result.cancellations.removeAll { $0.upper <= ($0.isMinus ? result.resetMinus : result.resetPlus) }
        return result
    }
}
