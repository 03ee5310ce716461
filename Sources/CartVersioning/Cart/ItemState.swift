/// The replicated state of one cart item.
///
/// - `counters`: one `ActorCounter` per replica that changed the item's quantity.
/// - `sets`: "set the quantity" writes (`SetEntry`), LWW among concurrent ones.
/// - `name`, `price`, `metadata`: LWW registers, re-asserted by every quantity change.
/// - `incarnations`: the dots of the operations that began the item's current life (an add to
///   an item not shown, or a set), removed by the removals, sets and re-adds that observe them.
///   A decrement records the incarnations its coordinator saw (see `ActorCounter.Era`); once all
///   of them have ended, the decrement is voided.
///
/// Quantity = the winning live set's value (0 if none) + the sum of the counters' contributions;
/// the item is shown if that is positive. A removal raises the counters' watermarks to what it
/// observed and drops the sets and details it observed; the item stays (hidden) until
/// `CartState.compact` collects it, so that a replica that has not seen the removal cannot bring
/// the removed units back.
///
/// Invariants: every dot (counter events, set and detail entries) is in the owning cart's causal
/// context. Thread safety: a `Sendable` value type.
struct ItemState: Hashable, Sendable {
    var counters: [ReplicaID: ActorCounter] = [:]
    var sets = DotMap<SetEntry>()
    var name = DotMap<RegisterEntry<UTF8Text>>()
    var price = DotMap<RegisterEntry<Int64>>()
    var metadata = DotMap<RegisterEntry<ItemMetadata>>()
    var incarnations = DotMap<IncarnationMark>()

    /// True if nothing is left (the item is dropped from the cart).
    var isEmpty: Bool {
        counters.isEmpty && sets.isEmpty && name.isEmpty && price.isEmpty && metadata.isEmpty && incarnations.isEmpty
    }

    /// The incarnations in force, ascending (what a decrement records).
    var currentIncarnations: [Dot] { incarnations.entries.keys.sorted() }

    /// Number of dot-tagged entries and counters (a size metric).
    var entryCount: Int {
        counters.count + sets.entries.count + name.entries.count + price.entries.count + metadata.entries.count
            + incarnations.entries.count
    }

    /// The set value in force and the counted changes on top of it (saturating).
    var quantity: Int64 {
        counters.values.reduce(sets.lastWriterWinsEntry?.quantity ?? 0) { $0.addingSaturating($1.contribution) }
    }

    var isVisible: Bool { quantity > 0 }

    /// When this incarnation of the item was first added: the earliest `addedAtMs` asserted by
    /// a write whose units still count (the winning set, counters with counted additions).
    var addedAtMs: UInt64? {
        let fromCounters = counters.values.filter { $0.livePlus > 0 }.map(\.addedAtMs)
        return (fromCounters + [sets.lastWriterWinsEntry?.addedAtMs].compactMap { $0 }).min()
    }

    /// The latest write that still matters: counted changes, live sets, details in force.
    var updatedAtMs: UInt64 {
        let stamps = counters.values.filter { $0.livePlus > 0 || $0.liveMinus > 0 }.map(\.timestampMs)
            + sets.entries.values.map(\.timestampMs)
            + name.entries.values.map(\.timestampMs)
            + price.entries.values.map(\.timestampMs)
            + metadata.entries.values.map(\.timestampMs)
        return stamps.max() ?? 0
    }

    /// The user-visible item, or nil if its quantity is not positive.
    func view(sku: UTF8Text) -> CartItem? {
        let total = quantity
        guard total > 0 else { return nil }
        return CartItem(sku: sku.string, quantity: total,
                        name: name.lastWriterWinsEntry?.value.string ?? "",
                        priceMinor: price.lastWriterWinsEntry?.value ?? 0,
                        metadata: metadata.lastWriterWinsEntry?.value.dictionary ?? [:],
                        addedAtMs: addedAtMs ?? 0, updatedAtMs: updatedAtMs)
    }

    // MARK: - Removal

    /// Removes the quantity `observed` saw: every counter's units up to the position observed,
    /// and the sets observed. Throws `staleContext` (changing nothing) if a counter cannot tell.
    mutating func resetQuantity(observedBy observed: CausalContext) throws(CartOperationError) {
        var positions: [ReplicaID: ActorCounter.Checkpoint] = [:]
        for (replica, counter) in counters {
            if let p = try counter.observedPosition(by: observed, replica: replica) { positions[replica] = p }
        }
        for (replica, position) in positions { counters[replica]?.reset(to: position) }
        sets.removeObserved(by: observed)
        incarnations.removeObserved(by: observed)
    }

    /// Removes everything the coordinator's whole state `context` saw: quantity and details.
    /// Never stale: the whole state has seen every series' latest change.
    mutating func reset(observedBy context: CausalContext) {
        for (replica, counter) in counters {
            if let position = counter.checkpoints.last(where: { context.contains(Dot(replica: replica, counter: $0.counter)) }) {
                counters[replica]?.reset(to: position)
            }
        }
        sets.removeObserved(by: context)
        incarnations.removeObserved(by: context)
        removeDetails(observedBy: context)
    }

    /// Voids the decrements of every series made in incarnations that have all ended: seen by
    /// `context` and no longer held.
    mutating func voidEndedEras(context: CausalContext) {
        for replica in counters.keys where !(counters[replica]?.eras.isEmpty ?? true) {
            counters[replica]?.voidEras { context.contains($0) && incarnations.entries[$0] == nil }
        }
    }

    /// Drops the details `observed` saw (a removal of the item).
    mutating func removeDetails(observedBy observed: CausalContext) {
        name.removeObserved(by: observed)
        price.removeObserved(by: observed)
        metadata.removeObserved(by: observed)
    }

    // MARK: - Writes

    /// Writes the detail fields `details` sets, and re-asserts the current winners of the others,
    /// under `dot`; each written field supersedes what the coordinator held of it.
    mutating func writeDetails(_ details: CartItemDetails, dot: Dot, nowMs: UInt64) {
        if let value = details.name {
            name.replaceAll(with: dot, RegisterEntry(value: UTF8Text(value), timestampMs: nowMs))
        } else if let current = name.lastWriterWinsEntry {
            name.replaceAll(with: dot, current)
        }
        if let value = details.priceMinor {
            price.replaceAll(with: dot, RegisterEntry(value: value, timestampMs: nowMs))
        } else if let current = price.lastWriterWinsEntry {
            price.replaceAll(with: dot, current)
        }
        if let value = details.metadata {
            metadata.replaceAll(with: dot, RegisterEntry(value: ItemMetadata(value), timestampMs: nowMs))
        } else if let current = metadata.lastWriterWinsEntry {
            metadata.replaceAll(with: dot, current)
        }
    }

    // MARK: - Merge

    /// The join of two item states whose carts have seen `selfContext` and `otherContext`.
    func merged(with other: ItemState, selfContext: CausalContext, otherContext: CausalContext,
                checkpointsMax: Int) -> ItemState {
        var result = ItemState()
        for replica in Set(counters.keys).union(other.counters.keys) {
            switch (counters[replica], other.counters[replica]) {
            case let (mine?, theirs?):
                result.counters[replica] = mine.merged(with: theirs, checkpointsMax: checkpointsMax)
            case let (mine?, nil):
                // Absent on the other side although it saw the series' latest change: collected.
                if !otherContext.contains(Dot(replica: replica, counter: mine.latest.counter)) { result.counters[replica] = mine }
            case let (nil, theirs?):
                if !selfContext.contains(Dot(replica: replica, counter: theirs.latest.counter)) { result.counters[replica] = theirs }
            case (nil, nil):
                break
            }
        }
        result.sets = sets.merged(with: other.sets, selfContext: selfContext, otherContext: otherContext)
        result.name = name.merged(with: other.name, selfContext: selfContext, otherContext: otherContext)
        result.price = price.merged(with: other.price, selfContext: selfContext, otherContext: otherContext)
        result.metadata = metadata.merged(with: other.metadata, selfContext: selfContext, otherContext: otherContext)
        result.incarnations = incarnations.merged(with: other.incarnations, selfContext: selfContext, otherContext: otherContext)
        return result
    }

    /// Every dot the item holds: counter events, set and detail entries.
    var allDots: [Dot] {
        var dots = setAndDetailDots
        for (replica, counter) in counters {
            dots.append(Dot(replica: replica, counter: counter.start))
            dots += counter.checkpoints.map { Dot(replica: replica, counter: $0.counter) }
            dots += counter.eras.flatMap(\.incarnations)
        }
        return dots
    }

    private var setAndDetailDots: [Dot] {
        Array(sets.entries.keys) + Array(name.entries.keys) + Array(price.entries.keys) + Array(metadata.entries.keys)
            + Array(incarnations.entries.keys)
    }
}

extension ItemState {
    /// The payload of an incarnation entry: the dot is all there is.
    struct IncarnationMark: Hashable, Sendable, Comparable {
        static func < (lhs: IncarnationMark, rhs: IncarnationMark) -> Bool { false }
    }
}
