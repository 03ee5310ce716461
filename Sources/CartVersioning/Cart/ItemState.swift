/// The replicated state of one cart item.
///
/// - `counters`: one `ActorCounter` per replica that changed the item's quantity.
/// - `sets`: "set the quantity" writes (`SetEntry`), LWW among concurrent ones.
/// - `name`, `price`, `metadata`: LWW registers, re-asserted by every add, increment, set and
///   detail update (not by a decrement).
/// - `incarnations`: the dots of the operations that began a life of the item (an add to an
///   item not shown, a set, or an increment no life in force could take), removed by the
///   removals, sets and re-adds that observe them.
/// - `twins`: links between the quantity change of an operation applied at two coordinators
///   (a retry) that counts and the one that was cancelled, so that a removal of either removes
///   the operation's units (see `CartState.settle`).
///
/// Quantity: the item's units are allocated to *lives* (see `lives`), each begun by an
/// incarnation. Each life counts its units (and the winning set's value, if the set began it),
/// never below zero; the quantity is the sum over lives, and the item is shown if it is
/// positive. A removal raises the counters' watermarks to what it observed and drops the
/// sets, details and incarnations it observed; the item stays (hidden) until
/// `CartState.compact` collects it, so that a replica that has not seen the removal cannot bring
/// the removed units back.
///
/// Invariants: every dot (counter events, set, detail and incarnation entries, era and link
/// references) is in the owning cart's causal context. Thread safety: a `Sendable` value type.
struct ItemState: Hashable, Sendable {
    var counters: [ReplicaID: ActorCounter] = [:]
    var sets = DotMap<SetEntry>()
    var name = DotMap<RegisterEntry<UTF8Text>>()
    var price = DotMap<RegisterEntry<Int64>>()
    var metadata = DotMap<RegisterEntry<ItemMetadata>>()
    var incarnations = DotMap<IncarnationMark>()
    var twins: [TwinLink] = []

    /// True if nothing is left (the item is dropped from the cart).
    var isEmpty: Bool {
        counters.isEmpty && sets.isEmpty && name.isEmpty && price.isEmpty && metadata.isEmpty && incarnations.isEmpty
            && twins.isEmpty
    }

    /// Number of dot-tagged entries and counters (a size metric).
    var entryCount: Int {
        counters.count + sets.entries.count + name.entries.count + price.entries.count + metadata.entries.count
            + incarnations.entries.count + twins.count
    }

    var isVisible: Bool { quantity > 0 }

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

    /// Cancels the counting change of every twin link whose twin a removal has reset, and drops
    /// the links whose counting change has no units left (or whose series is gone).
    mutating func settleTwins() {
        var cancels: [ReplicaID: [ActorCounter.Cancellation]] = [:]
        for link in twins where counters[link.replica]?.start == link.start {
            if let twin = counters[link.twinReplica], twin.start == link.twinStart, twin.isReset(link.twinInterval) {
                cancels[link.replica, default: []].append(link.interval)
            }
        }
        for (replica, intervals) in cancels { counters[replica]?.cancel(intervals) }
        // Keep the links whose counting change still has units (after the cancellations above:
        // one fired link cancels the change every other link of it points at).
        twins = twins.filter { link in
            guard let counter = counters[link.replica], counter.start == link.start else { return false }
            return !counter.isReset(link.interval) && counter.counted(link.interval) > 0
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
        result.twins = Array(Set(twins + other.twins)).sorted()
        return result
    }

    /// Every dot the item holds: counter events, set and detail entries.
    var allDots: [Dot] {
        var dots = setAndDetailDots
        for (replica, counter) in counters {
            dots.append(Dot(replica: replica, counter: counter.start))
            dots += counter.checkpoints.map { Dot(replica: replica, counter: $0.counter) }
            dots += counter.eras.map(\.incarnation)
        }
        for link in twins {
            dots.append(Dot(replica: link.replica, counter: link.start))
            dots.append(Dot(replica: link.twinReplica, counter: link.twinStart))
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
