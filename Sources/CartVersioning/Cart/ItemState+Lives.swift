/// The item's quantity, life by life.
///
/// A *life* of an item is a group of its incarnations (the operations that began it: an add to
/// an item not shown, a set) linked by units that count: every unit is tagged with the life its
/// coordinator saw when it was added or taken (`ActorCounter.Era`), and a unit tagged with
/// several incarnations links them into one life. A life's value is its counted units added
/// minus taken, plus the winning set's quantity if that set began it; the quantity is the sum of
/// the lives' values, each floored at zero. So a decrement takes only units of the life it was
/// made in: one concurrent with a removal, set or re-add cannot eat the units of the item's next
/// life, and a life never counts below zero. Concurrent increments and decrements in one life
/// all count.
extension ItemState {
    /// The lives: each as its incarnations and value (unfloored).
    var lives: [(incarnations: Set<Dot>, value: Int64)] {
        var parent: [Dot: Dot] = [:]
        func find(_ dot: Dot) -> Dot {
            var root = dot
            while let up = parent[root], up != root { root = up }
            var node = dot
            while let up = parent[node], up != root {
                parent[node] = root
                node = up
            }
            return root
        }
        func union(_ dots: [Dot]) {
            for dot in dots where parent[dot] == nil { parent[dot] = dot }
            guard let first = dots.first else { return }
            let root = find(first)
            for dot in dots.dropFirst() {
                let other = find(dot)
                if other != root { parent[other] = root }
            }
        }
        var tallies: [(tag: Dot, units: Int64)] = []
        var untagged: Int64 = 0
        for counter in counters.values {
            var taggedPlus: UInt64 = 0, taggedMinus: UInt64 = 0
            for era in counter.eras {
                let units = counter.counted(era.interval)
                guard units > 0 else { continue }
                union(era.incarnations)
                let signed = Int64(clamping: units)
                tallies.append((era.incarnations[0], era.isMinus ? -signed : signed))
                if era.isMinus { taggedMinus &+= units } else { taggedPlus &+= units }
            }
            // Units no era tags (only a damaged or forged record leaves any) form a life of their own.
            let plus = counter.livePlus > taggedPlus ? counter.livePlus - taggedPlus : 0
            let minus = counter.liveMinus > taggedMinus ? counter.liveMinus - taggedMinus : 0
            untagged = untagged.addingSaturating(Int64(clamping: plus)).subtractingSaturating(Int64(clamping: minus))
        }
        for dot in incarnations.entries.keys { union([dot]) }
        if let winner = sets.lastWriterWins {
            union([winner.dot])
            tallies.append((winner.dot, winner.payload.quantity))
        }
        var values: [Dot: Int64] = [:]
        var members: [Dot: Set<Dot>] = [:]
        for dot in parent.keys {
            let root = find(dot)
            members[root, default: []].insert(dot)
            if values[root] == nil { values[root] = 0 }
        }
        for tally in tallies {
            let root = find(tally.tag)
            values[root] = (values[root] ?? 0).addingSaturating(tally.units)
        }
        var result = members.map { (incarnations: $0.value, value: values[$0.key] ?? 0) }
        if untagged != 0 { result.append((incarnations: [], value: untagged)) }
        return result
    }

    /// The quantity shown: the sum of the lives' values, each floored at zero (saturating).
    var quantity: Int64 {
        lives.reduce(0) { $0.addingSaturating(max(0, $1.value)) }
    }

    /// The life a change made now belongs to: the incarnations in force and those of every
    /// life with a positive value (units that survived a removal they were concurrent with),
    /// ascending.
    var lifeOfNextChange: [Dot] {
        var tags = Set(incarnations.entries.keys)
        for life in lives where life.value > 0 { tags.formUnion(life.incarnations) }
        return tags.sorted()
    }
}
