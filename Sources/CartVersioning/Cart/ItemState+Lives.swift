/// The item's quantity, life by life.
///
/// A *life* of an item is what one incarnation began (an add to an item not shown, a set). Every
/// unit added or taken is allocated to one life (`ActorCounter.Era`); a life's value is its
/// counted units added minus taken, plus the winning set's quantity if that set began it. The
/// quantity is the sum of the lives' values, each floored at zero. So a decrement takes only
/// units of the lives it was allocated to: one concurrent with a removal, set or re-add cannot
/// eat the units of the item's next life, and a life never counts below zero. Concurrent
/// increments and decrements in one life all count.
///
/// A change made now is allocated to lives its coordinator sees. An increment goes to the life in
/// force with the greatest value that is not overdrawn (value ≥ 0); if there is none (every life
/// in force is overdrawn, or the units shown all belong to lives a removal ended), it begins a
/// life of its own, so that a decrement that never saw it cannot take it. A decrement goes
/// across the lives with a positive value in `preferredLives` order until its units are placed
/// (so that it takes exactly what it says whenever the coordinator shows that many).
extension ItemState {
    /// The lives, by the incarnation that began them, with their values (unfloored). Units no era
    /// tags (only a damaged or forged record leaves any) form a life of their own, keyed nil.
    var lives: [Dot?: Int64] {
        var values: [Dot?: Int64] = [:]
        for dot in incarnations.entries.keys { values[dot] = 0 }
        var untagged: Int64 = 0
        for counter in counters.values {
            var taggedPlus: UInt64 = 0, taggedMinus: UInt64 = 0
            for era in counter.eras {
                let units = counter.counted(era.interval)
                guard units > 0 else { continue }
                let signed = Int64(clamping: units)
                values[era.incarnation] = (values[era.incarnation] ?? 0).addingSaturating(era.isMinus ? -signed : signed)
                if era.isMinus { taggedMinus &+= units } else { taggedPlus &+= units }
            }
            let plus = counter.livePlus > taggedPlus ? counter.livePlus - taggedPlus : 0
            let minus = counter.liveMinus > taggedMinus ? counter.liveMinus - taggedMinus : 0
            untagged = untagged.addingSaturating(Int64(clamping: plus)).subtractingSaturating(Int64(clamping: minus))
        }
        if untagged != 0 { values[nil] = untagged }
        if let winner = sets.lastWriterWins {
            values[winner.dot] = (values[winner.dot] ?? 0).addingSaturating(winner.payload.quantity)
        }
        return values
    }

    /// The quantity shown: the sum of the lives' values, each floored at zero (saturating).
    var quantity: Int64 {
        lives.values.reduce(0) { $0.addingSaturating(max(0, $1)) }
    }

    /// The lives with a positive value that a change made now goes to, in order: those whose
    /// incarnation is in force first (the present life), then by value, greatest first, then by
    /// incarnation, greatest first. A life of untagged units comes last and is tagged by the
    /// change's own dot.
    func preferredLives(fallback: Dot) -> [(incarnation: Dot, value: Int64)] {
        let positive = lives.filter { $0.value > 0 }
        let tagged = positive.compactMap { entry in entry.key.map { (incarnation: $0, value: entry.value) } }.sorted { lhs, rhs in
            let lhsInForce = incarnations.entries[lhs.incarnation] != nil
            let rhsInForce = incarnations.entries[rhs.incarnation] != nil
            if lhsInForce != rhsInForce { return lhsInForce }
            if lhs.value != rhs.value { return lhs.value > rhs.value }
            return lhs.incarnation > rhs.incarnation
        }
        if let untagged = positive[nil] { return tagged + [(incarnation: fallback, value: untagged)] }
        return tagged
    }

    /// The life in force an increment made now joins: the one with the greatest value (then the
    /// greatest incarnation) among those not overdrawn; nil if there is none, and the increment
    /// must begin a life of its own.
    var lifeAnIncrementJoins: Dot? {
        lives.compactMap { entry -> (incarnation: Dot, value: Int64)? in
            guard let incarnation = entry.key, incarnations.entries[incarnation] != nil, entry.value >= 0 else { return nil }
            return (incarnation, entry.value)
        }.max { lhs, rhs in (lhs.value, lhs.incarnation) < (rhs.value, rhs.incarnation) }?.incarnation
    }

    /// The lives a change of `delta` made now (under `dot`) goes to: an increment all to
    /// `lifeAnIncrementJoins`, or to the life `dot` begins (the caller records the incarnation);
    /// a decrement across the preferred lives, each up to its value, the rest (if the
    /// coordinator shows fewer units than it takes) to the last one.
    func allocation(of delta: Int64, dot: Dot) -> [(incarnation: Dot, units: UInt64)] {
        guard delta < 0 else { return [(lifeAnIncrementJoins ?? dot, delta.magnitude)] }
        let preferred = preferredLives(fallback: dot)
        guard !preferred.isEmpty else { return [(dot, delta.magnitude)] }
        var remaining = delta.magnitude
        var result: [(incarnation: Dot, units: UInt64)] = []
        for life in preferred where remaining > 0 {
            let units = min(remaining, life.value.magnitude)
            result.append((life.incarnation, units))
            remaining -= units
        }
        if remaining > 0 { result[result.count - 1].units += remaining }
        return result
    }

    /// When this incarnation of the item was first added: the earliest `addedAtMs` asserted by
    /// a write whose units still count in a life with a positive value (the winning set,
    /// counters).
    var addedAtMs: UInt64? {
        let positive = Set(lives.filter { $0.value > 0 }.compactMap(\.key))
        let fromCounters = counters.values.filter { counter in
            counter.eras.contains { !$0.isMinus && positive.contains($0.incarnation) && counter.counted($0.interval) > 0 }
        }.map(\.addedAtMs)
        return (fromCounters + [sets.lastWriterWinsEntry?.addedAtMs].compactMap { $0 }).min()
    }

    /// The latest write that still matters: series whose latest change still counts in a life
    /// with a positive value (a change that landed only in an ended or overdrawn life moves
    /// nothing), live sets, details in force.
    var updatedAtMs: UInt64 {
        let positive = Set(lives.filter { $0.value > 0 }.compactMap(\.key))
        let stamps = counters.values.filter { counter in
            let latest = counter.latestChange
            return counter.eras.contains { era in
                guard era.isMinus == latest.isMinus, positive.contains(era.incarnation) else { return false }
                let lower = max(era.lower, latest.lower), upper = min(era.upper, latest.upper)
                return upper > lower && counter.counted(ActorCounter.Cancellation(isMinus: era.isMinus, lower: lower, upper: upper)) > 0
            }
        }.map(\.timestampMs)
            + sets.entries.values.map(\.timestampMs)
            + name.entries.values.map(\.timestampMs)
            + price.entries.values.map(\.timestampMs)
            + metadata.entries.values.map(\.timestampMs)
        return stamps.max() ?? 0
    }
}
