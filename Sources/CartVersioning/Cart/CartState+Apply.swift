/// Applying client operations at the coordinating replica.
extension CartState {
    /// What `apply` did.
    public enum ApplyOutcome: Hashable, Sendable {
        /// The operation was applied under this dot.
        case applied(Dot)
        /// The operation id was already applied (under this dot): nothing changed.
        case duplicate(Dot)
    }

    /// Applies `operation` (identified by `id`) as replica `replica` at time `nowMs`. Its text is
    /// brought to NFC first (see `CartOperation.normalizedNFC`).
    ///
    /// - Parameters:
    ///   - operation: what the client asked for.
    ///   - id: the operation's id (the API's `Idempotency-Key`); a second application of the same
    ///     id does nothing and answers `.duplicate`.
    ///   - replica: this node's current replica id (node + epoch).
    ///   - issuedCounter: the highest counter `replica` has issued for this cart, from its durable
    ///     local record of the cart (0 if it has none). The state must have seen it: a state that
    ///     lacks the replica's own earlier writes would reissue their counters, so it is refused
    ///     (`missingOwnWrites`); merge the local record first.
    ///   - nowMs: the coordinator's wall clock in ms since the Unix epoch (passed in, never read).
    ///   - observed: the causal context the client read (from `CartView.context`): `remove`,
    ///     `clear` and `setQuantity` act on what it covers, so that what the client did not see
    ///     survives. Nil (no token) or an empty context means everything this replica has: an
    ///     empty token observes nothing, and an operation that removes nothing would silently do
    ///     nothing. `add`, `changeQuantity` and `updateDetails` do not use it: they are relative
    ///     to the coordinator's state (a decrement that reaches 0 removes what it holds).
    ///   - limits: operation limits.
    /// - Throws: `CartOperationError`; the state is then unchanged.
    @discardableResult
    public mutating func apply(_ operation: CartOperation, id: OperationID, at replica: ReplicaID, issuedCounter: UInt64,
                               nowMs: UInt64, observed: CausalContext? = nil,
                               limits: VersioningLimits = .default) throws(CartOperationError) -> ApplyOutcome {
        let operation = operation.normalizedNFC
        try operation.validate(limits: limits)
        try id.validate(limits: limits)
        let seen = context.highestCounter(of: replica)
        guard seen >= issuedCounter else { throw .missingOwnWrites(replica: replica, seen: seen, issued: issuedCounter) }
        if let earlier = operations.canonical(id) { return .duplicate(earlier) }
        if let observed, !context.covers(observed) { throw .observedContextNotCovered }
        guard operations.entries.count < limits.operationLogMax else {
            throw .tooManyRecentOperations(max: limits.operationLogMax)
        }

        let before = context
        let observed = observed.flatMap { $0.isEmpty ? nil : $0 } ?? before
        var next = self
        let dot = try next.issueDot(for: replica, limits: limits)
        var application = OperationLog.Application(sku: operation.sku.map { UTF8Text($0) }, change: nil, timestampMs: nowMs)
        // Operations that only take units away (removals, decrements, sets to fewer) are never
        // refused for size: a cart over its budget (a merge of several full carts) must still be
        // able to shrink. Their bookkeeping is bounded (a checkpoint, a set entry, a log entry).
        var removes = false
        switch operation {
        case let .add(sku, quantity, details):
            application.change = try next.change(UTF8Text(sku), by: quantity, details: details, dot: dot, nowMs: nowMs,
                                                 resetHiddenBy: before, limits: limits)
        case let .changeQuantity(sku, delta):
            // Relative to what the coordinator shows: an item it holds as removed must be added
            // again, with its details (a change names none).
            let key = UTF8Text(sku)
            let current = next.items[key]?.quantity ?? 0
            guard current > 0 else { throw .itemNotFound(sku: sku) }
            if delta < 0 {
                removes = true
                if current.addingSaturating(delta) <= 0 {
                    try next.removeItem(key, observedBy: before)
                    break
                }
            }
            application.change = try next.change(key, by: delta, details: CartItemDetails(), dot: dot, nowMs: nowMs,
                                                 resetHiddenBy: before, limits: limits)
        case let .setQuantity(sku, quantity):
            if quantity == 0 {
                try next.removeItem(UTF8Text(sku), observedBy: observed)
                removes = true
            } else {
                removes = quantity <= (next.items[UTF8Text(sku)]?.quantity ?? 0)
                try next.set(UTF8Text(sku), to: quantity, dot: dot, nowMs: nowMs, observedBy: observed, limits: limits)
            }
        case let .updateDetails(sku, details):
            let key = UTF8Text(sku)
            guard var item = next.items[key], item.isVisible else { throw .itemNotFound(sku: sku) }
            item.writeDetails(details, dot: dot, nowMs: nowMs)
            next.items[key] = item
        case let .remove(sku):
            try next.removeItem(UTF8Text(sku), observedBy: observed)
            removes = true
        case .clear:
            for sku in next.items.keys.sorted() {
                try next.removeItem(sku, observedBy: observed)
            }
            removes = true
        }
        next.operations.record(id, dot, application)
        // A removal may have reset the twin of an operation applied twice.
        next.settle()
        if !removes { try next.checkStorable(comparedTo: self, limits: limits) }
        self = next
        return .applied(dot)
    }

    /// Changes `sku`'s quantity by `delta` under `dot`, re-asserting its details. An item not
    /// shown (absent, or quantity not positive) is reset first: its quantity, details and
    /// incarnations as `resetHiddenBy` (the coordinator's whole state) saw them are removed and
    /// this change begins a new life, so that an add gives exactly what it adds and an item comes
    /// back with the details its add gives, never with leftovers of an earlier life (which would
    /// depend on whether a compaction had collected them). An increment on a shown item with no
    /// life in force that is not overdrawn begins a life too. The change's units are allocated to
    /// lives (`ItemState.allocation`). Returns its place in the replica's series.
    private mutating func change(_ sku: UTF8Text, by delta: Int64, details: CartItemDetails, dot: Dot, nowMs: UInt64,
                                 resetHiddenBy: CausalContext,
                                 limits: VersioningLimits) throws(CartOperationError) -> (start: UInt64, interval: ActorCounter.Cancellation) {
        try checkRoom(for: sku, limits: limits)
        var item = items[sku] ?? ItemState()
        let visible = item.isVisible
        if !visible {
            item.reset(observedBy: resetHiddenBy)
            item.incarnations.entries[dot] = ItemState.IncarnationMark()
        } else if delta > 0, item.lifeAnIncrementJoins == nil {
            // No life in force can take it without a decrement that never saw it eating it.
            item.incarnations.entries[dot] = ItemState.IncarnationMark()
        }
        let addedAtMs = visible ? (item.addedAtMs ?? nowMs) : nowMs
        var counter = item.counters[dot.replica] ?? ActorCounter(start: dot.counter, addedAtMs: addedAtMs, timestampMs: nowMs)
        let interval = try counter.change(by: delta, counter: dot.counter, allocation: item.allocation(of: delta, dot: dot),
                                          addedAtMs: addedAtMs, timestampMs: nowMs, checkpointsMax: limits.checkpointsPerCounterMax)
        item.counters[dot.replica] = counter
        // An increment re-asserts the details (an item it keeps alive keeps them); a decrement
        // keeps nothing alive and writes none.
        if delta > 0 { item.writeDetails(details, dot: dot, nowMs: nowMs) }
        items[sku] = item
        return (counter.start, interval)
    }

    /// Sets `sku`'s quantity to `quantity` (≥ 1): removes the quantity and incarnations
    /// `observed` saw, then writes a set entry that begins a new life; increments `observed` did
    /// not see stay and count on top, decrements of the lives it ended cannot take from the new
    /// one. The item must be shown at the coordinator: a set names no details, so an item the
    /// coordinator holds as removed must be added again (`itemNotFound`).
    private mutating func set(_ sku: UTF8Text, to quantity: Int64, dot: Dot, nowMs: UInt64, observedBy observed: CausalContext,
                              limits: VersioningLimits) throws(CartOperationError) {
        guard var item = items[sku], item.isVisible else { throw .itemNotFound(sku: sku.string) }
        let addedAtMs = item.addedAtMs ?? nowMs
        try item.resetQuantity(observedBy: observed)
        item.sets.entries[dot] = SetEntry(quantity: quantity, addedAtMs: addedAtMs, timestampMs: nowMs)
        item.incarnations.entries[dot] = ItemState.IncarnationMark()
        item.writeDetails(CartItemDetails(), dot: dot, nowMs: nowMs)
        items[sku] = item
    }

    /// Removes what `observed` saw of `sku`: its quantity, details and incarnations.
    private mutating func removeItem(_ sku: UTF8Text, observedBy observed: CausalContext) throws(CartOperationError) {
        guard var item = items[sku] else { return }
        try item.resetQuantity(observedBy: observed)
        item.removeDetails(observedBy: observed)
        items[sku] = item.isEmpty ? nil : item
    }

    /// Refuses a new SKU once `cartItemsPerOperationMax` items are shown.
    private func checkRoom(for sku: UTF8Text, limits: VersioningLimits) throws(CartOperationError) {
        guard !(items[sku]?.isVisible ?? false) else { return }
        let shown = items.values.reduce(0) { $0 + ($1.isVisible ? 1 : 0) }
        if shown >= limits.cartItemsPerOperationMax { throw .cartFull(itemsMax: limits.cartItemsPerOperationMax) }
    }

    /// Refuses a result that would encode to more than `cartBytesPerOperationMax` bytes and more
    /// than `before` did, so that merges of in-limit carts always fit a record (see
    /// `VersioningLimits`) while a cart over the budget (a merge of full carts) can still shrink.
    /// Cost: one encoding of the cart per operation (tens of microseconds for a typical cart).
    private func checkStorable(comparedTo before: CartState, limits: VersioningLimits) throws(CartOperationError) {
        guard let bytes = try? RecordCodec.encode(.cart(self), limits: limits).count else {
            throw .cartTooLarge(bytesMax: limits.cartBytesPerOperationMax)
        }
        guard bytes > limits.cartBytesPerOperationMax else { return }
        let beforeBytes = (try? RecordCodec.encode(.cart(before), limits: limits).count) ?? 0
        if bytes > beforeBytes { throw .cartTooLarge(bytesMax: limits.cartBytesPerOperationMax) }
    }

    /// Takes this replica's next dot and records it in the context.
    private mutating func issueDot(for replica: ReplicaID, limits: VersioningLimits) throws(CartOperationError) -> Dot {
        let highest = context.highestCounter(of: replica)
        guard highest < limits.counterMax else { throw .counterExhausted(replica) }
        if highest == 0, !context.replicas.contains(replica), context.replicas.count >= limits.clockEntriesMax {
            throw .tooManyReplicas(max: limits.clockEntriesMax)
        }
        let dot = Dot(replica: replica, counter: highest + 1)
        context.insert(dot)
        return dot
    }
}
