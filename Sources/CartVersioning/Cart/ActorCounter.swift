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
/// - `cancellations` count out intervals of units: those of a duplicate application of one
///   operation id (a client retry that reached two coordinators, see `OperationLog`).
/// - `eras` tag every unit with the *life* of the item it was added to or taken from (the
///   incarnation that began that life; see `ItemState.lives`). A decrement only takes units of
///   the lives it was allocated to, and a life never counts below zero, so a decrement
///   concurrent with a removal, set or re-add cannot eat the units of the item's next life.
/// - `start` is the event that began the series. A series whose item was garbage-collected (see
///   `CartState.compact`) and then changed again starts anew, and the newer series wins a merge.
///
/// Merge (same replica): the newer series wins; within one series the later position wins and
/// the watermarks, checkpoints, cancellations and eras join. Commutative, associative,
/// idempotent.
///
/// Invariants: checkpoints are non-empty, strictly ascending by counter, the first at or after
/// `start`, positions non-decreasing, the last one the series' latest change; resets do not pass
/// the totals; cancellations and eras lie inside the totals at or above their reset (clipped
/// there, so that each state has one representation); cancellations are disjoint and not
/// adjacent within a sign; eras are disjoint, ascending per sign, adjacent ones with different
/// incarnations, and (in every state `apply` and `merge` produce) cover every unit above the
/// resets.
/// Thread safety: a `Sendable` value type.
struct ActorCounter: Hashable, Sendable {
    /// The series' totals after one of its changes.
    struct Checkpoint: Hashable, Sendable {
        var counter: UInt64
        var plus: UInt64
        var minus: UInt64
    }

    /// Units `lower..<upper` of the `plus` (or `minus`) total.
    struct Cancellation: Hashable, Sendable, Comparable {
        var isMinus: Bool
        var lower: UInt64
        var upper: UInt64

        static func < (lhs: Cancellation, rhs: Cancellation) -> Bool {
            (lhs.isMinus ? 1 : 0, lhs.lower, lhs.upper) < (rhs.isMinus ? 1 : 0, rhs.lower, rhs.upper)
        }
    }

    /// Units `lower..<upper` of the `plus` (or `minus`) total, added to (taken from) the life of
    /// the item that `incarnation` began.
    struct Era: Hashable, Sendable, Comparable {
        var isMinus: Bool
        var incarnation: Dot
        var lower: UInt64
        var upper: UInt64

        var interval: Cancellation { Cancellation(isMinus: isMinus, lower: lower, upper: upper) }

        static func < (lhs: Era, rhs: Era) -> Bool {
            if lhs.interval != rhs.interval { return lhs.interval < rhs.interval }
            return lhs.incarnation < rhs.incarnation
        }
    }

    /// Largest running total a series may reach (2^62): at the largest change per operation,
    /// more operations than any replica can issue, and far from UInt64 overflow even when a
    /// decoded record claims it.
    static let unitsMax: UInt64 = 1 << 62

    var start: UInt64
    var resetPlus: UInt64 = 0
    var resetMinus: UInt64 = 0
    /// `addedAtMs` the latest change asserted for the item (see `ItemState.view`).
    var addedAtMs: UInt64
    /// Wall-clock time of the latest change.
    var timestampMs: UInt64
    var checkpoints: [Checkpoint]
    var cancellations: [Cancellation] = []
    var eras: [Era] = []

    /// An empty series begun by the event `counter` (its first change follows at once).
    init(start counter: UInt64, addedAtMs: UInt64, timestampMs: UInt64) {
        start = counter
        self.addedAtMs = addedAtMs
        self.timestampMs = timestampMs
        checkpoints = [Checkpoint(counter: counter, plus: 0, minus: 0)]
    }

    /// A series from decoded parts the caller has validated.
    init(start: UInt64, resetPlus: UInt64, resetMinus: UInt64, addedAtMs: UInt64, timestampMs: UInt64,
         checkpoints: [Checkpoint], cancellations: [Cancellation], eras: [Era]) {
        self.start = start
        self.resetPlus = resetPlus
        self.resetMinus = resetMinus
        self.addedAtMs = addedAtMs
        self.timestampMs = timestampMs
        self.checkpoints = checkpoints
        self.cancellations = cancellations
        self.eras = eras
    }

    /// The latest change.
    var latest: Checkpoint { checkpoints[checkpoints.count - 1] }

    /// Units added and taken that still count: above the watermark and not cancelled.
    var livePlus: UInt64 { counted(Cancellation(isMinus: false, lower: resetPlus, upper: latest.plus)) }
    var liveMinus: UInt64 { counted(Cancellation(isMinus: true, lower: resetMinus, upper: latest.minus)) }

    /// The units the series' latest change added or took, from its last two checkpoints (from
    /// zero if only one is left).
    var latestChange: Cancellation {
        guard let last = checkpoints.last else { return Cancellation(isMinus: false, lower: 0, upper: 0) }
        let previous = checkpoints.count > 1 ? checkpoints[checkpoints.count - 2] : Checkpoint(counter: 0, plus: 0, minus: 0)
        if last.plus > previous.plus { return Cancellation(isMinus: false, lower: previous.plus, upper: last.plus) }
        return Cancellation(isMinus: true, lower: previous.minus, upper: max(previous.minus, last.minus))
    }

    /// Units of `interval` (clipped at its reset) that are not cancelled.
    func counted(_ interval: Cancellation) -> UInt64 {
        let reset = interval.isMinus ? resetMinus : resetPlus
        let lower = max(interval.lower, reset)
        guard interval.upper > lower else { return 0 }
        var units = interval.upper - lower
        for c in cancellations where c.isMinus == interval.isMinus {
            let overlapLower = max(c.lower, lower), overlapUpper = min(c.upper, interval.upper)
            if overlapUpper > overlapLower { units -= min(units, overlapUpper - overlapLower) }
        }
        return units
    }

    /// Records the change `delta` made by the event `counter` (later than every event of the
    /// series), its units allocated to lives by `allocation` (incarnation and units, in order,
    /// summing to the change's magnitude), keeping the last `checkpointsMax` positions. Returns
    /// the interval it occupies. Throws `invalidQuantity` if a running total would pass
    /// `unitsMax`.
    mutating func change(by delta: Int64, counter: UInt64, allocation: [(incarnation: Dot, units: UInt64)], addedAtMs: UInt64,
                         timestampMs: UInt64, checkpointsMax: Int) throws(CartOperationError) -> Cancellation {
        var next = latest
        let isMinus = delta < 0
        guard (isMinus ? next.minus : next.plus) <= ActorCounter.unitsMax - delta.magnitude else {
            throw .invalidQuantity(delta, reason: "the item's running total of changes would pass 2^62")
        }
        let lower = isMinus ? next.minus : next.plus
        let interval = Cancellation(isMinus: isMinus, lower: lower, upper: lower + delta.magnitude)
        if isMinus { next.minus = interval.upper } else { next.plus = interval.upper }
        precondition(allocation.reduce(0) { $0 + $1.units } == delta.magnitude, "a change's units are allocated to lives")
        var at = interval.lower
        var added: [Era] = []
        for part in allocation where part.units > 0 {
            added.append(Era(isMinus: isMinus, incarnation: part.incarnation, lower: at, upper: at + part.units))
            at += part.units
        }
        eras = ActorCounter.union(eras + added)
        if checkpoints.count == 1, checkpoints[0].counter == counter {
            checkpoints[0] = next  // the first change of a series begun by this event
        } else {
            next.counter = counter
            checkpoints.append(next)
        }
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
        dropSpent()
    }

    /// Counts out `intervals` (idempotent: the cancellations are a union of intervals).
    /// Intervals beyond the series' totals (only a damaged or forged record can name one) are
    /// ignored.
    mutating func cancel(_ intervals: [Cancellation]) {
        let valid = intervals.filter { $0.lower < $0.upper && $0.upper <= ($0.isMinus ? latest.minus : latest.plus) }
        guard !valid.isEmpty else { return }
        cancellations = ActorCounter.union(cancellations + valid)
        dropSpent()
    }

    /// True if `interval` is wholly at or below its reset watermark.
    func isReset(_ interval: Cancellation) -> Bool {
        interval.upper <= (interval.isMinus ? resetMinus : resetPlus)
    }

    /// Keeps of the cancellations and eras only what lies above the watermarks (dropping what
    /// is wholly below, clipping what straddles them), so that the representation depends on the
    /// state alone, not on the order in which resets and cancellations arrived.
    private mutating func dropSpent() {
        cancellations = cancellations.compactMap { c in
            let reset = c.isMinus ? resetMinus : resetPlus
            guard c.upper > reset else { return nil }
            return Cancellation(isMinus: c.isMinus, lower: max(c.lower, reset), upper: c.upper)
        }
        eras = eras.compactMap { era in
            let reset = era.isMinus ? resetMinus : resetPlus
            guard era.upper > reset else { return nil }
            return Era(isMinus: era.isMinus, incarnation: era.incarnation, lower: max(era.lower, reset), upper: era.upper)
        }
    }

    /// The join of two series of the same replica.
    func merged(with other: ActorCounter, checkpointsMax: Int) -> ActorCounter {
        if start != other.start { return start > other.start ? self : other }
        let later = latest.counter >= other.latest.counter ? self : other
        var result = later
        result.resetPlus = max(resetPlus, other.resetPlus)
        result.resetMinus = max(resetMinus, other.resetMinus)
        // The later series' positions win; the other's earlier ones fill in behind them. (For
        // two states of one replica they agree; a damaged record that disagrees cannot make the
        // result unencodable.)
        var positions: [UInt64: Checkpoint] = [:]
        for c in (later == self ? other : self).checkpoints + later.checkpoints { positions[c.counter] = c }
        var ascending = positions.values.sorted { $0.counter < $1.counter }
        var kept: [Checkpoint] = []
        for c in ascending.reversed() where kept.isEmpty || (c.plus <= kept[kept.count - 1].plus && c.minus <= kept[kept.count - 1].minus) {
            kept.append(c)
        }
        ascending = kept.reversed()
        result.checkpoints = Array(ascending.suffix(max(1, checkpointsMax)))
        result.resetPlus = min(result.resetPlus, result.latest.plus)
        result.resetMinus = min(result.resetMinus, result.latest.minus)
        result.cancellations = ActorCounter.union(cancellations + other.cancellations)
        result.eras = ActorCounter.union(eras + other.eras)
        result.clipToTotals()
        result.dropSpent()
        return result
    }

    /// Drops what lies beyond the totals (only a damaged record can put anything there).
    private mutating func clipToTotals() {
        let plus = latest.plus, minus = latest.minus
        cancellations = cancellations.compactMap { c in
            let upper = min(c.upper, c.isMinus ? minus : plus)
            return c.lower < upper ? Cancellation(isMinus: c.isMinus, lower: c.lower, upper: upper) : nil
        }
        eras = eras.compactMap { era in
            let upper = min(era.upper, era.isMinus ? minus : plus)
            return era.lower < upper ? Era(isMinus: era.isMinus, incarnation: era.incarnation, lower: era.lower, upper: upper) : nil
        }
    }

    /// The union of intervals, per sign: sorted, overlapping and adjacent ones coalesced.
    static func union(_ intervals: [Cancellation]) -> [Cancellation] {
        var result: [Cancellation] = []
        for c in intervals.sorted() {
            if let last = result.last, last.isMinus == c.isMinus, c.lower <= last.upper {
                result[result.count - 1].upper = max(last.upper, c.upper)
            } else {
                result.append(c)
            }
        }
        return result
    }

    /// The union of eras: those of one life that overlap or touch are coalesced (a replica's
    /// state and a later one hold the same era, the later one longer). Eras of different lives
    /// never overlap in states that `apply` and `merge` produce; if a damaged or forged record
    /// makes them, the later one in sort order is clipped, so that eras stay disjoint. Linear
    /// after the sort.
    static func union(_ eras: [Era]) -> [Era] {
        var result: [Era] = []
        for var era in eras.sorted() {
            if let last = result.last, last.isMinus == era.isMinus {
                if last.incarnation == era.incarnation, era.lower <= last.upper {
                    result[result.count - 1].upper = max(last.upper, era.upper)
                    continue
                }
                era.lower = max(era.lower, last.upper)
                guard era.lower < era.upper else { continue }
                if last.incarnation == era.incarnation, era.lower == last.upper {
                    result[result.count - 1].upper = era.upper
                    continue
                }
            }
            result.append(era)
        }
        return result
    }
}
