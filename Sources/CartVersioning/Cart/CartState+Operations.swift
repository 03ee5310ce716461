/// Applying client operations at a replica.
extension CartState {
    /// Applies `operation` as replica `replica` at time `nowMs`.
    ///
    /// - Parameters:
    ///   - operation: what the client asked for.
    ///   - replica: this node's current replica id (node + epoch).
    ///   - nowMs: the coordinator's wall clock in ms since the Unix epoch (passed in, never read).
    ///   - observed: the causal context the client read (from `CartView.context`); removals and
    ///     `setQuantity` act on what it covers. Nil means "everything this replica has".
    ///   - limits: operation limits.
    /// - Throws: `CartOperationError`; the state is then unchanged.
    public mutating func apply(_ operation: CartOperation, at replica: ReplicaID, nowMs: UInt64,
                               observed: CausalContext? = nil,
                               limits: VersioningLimits = .default) throws(CartOperationError) {
        try operation.validate(limits: limits)
        if let observed, !context.covers(observed) {
            throw .observedContextNotCovered
        }
        var next = self
        switch operation {
        case let .add(sku, quantity, details):
            try next.addContribution(quantity, sku: sku, details: details, at: replica, nowMs: nowMs, limits: limits)
        case let .changeQuantity(sku, delta):
            try next.changeQuantity(sku: sku, delta: delta, observed: observed, at: replica, nowMs: nowMs, limits: limits)
        case let .setQuantity(sku, quantity):
            try next.setQuantity(sku: sku, quantity: quantity, observed: observed, at: replica, nowMs: nowMs, limits: limits)
        case let .updateDetails(sku, details):
            guard var item = next.items[sku], item.isVisible else { throw .itemNotFound(sku: sku) }
            let dot = try next.issueDot(for: replica, limits: limits)
            item.setDetails(details, dot: dot, nowMs: nowMs)
            next.items[sku] = item
        case let .remove(sku):
            next.removeItem(sku, observed: observed)
        case .clear:
            for sku in next.items.keys {
                next.removeItem(sku, observed: observed)
            }
        }
        self = next
    }

    private mutating func changeQuantity(sku: String, delta: Int64, observed: CausalContext?, at replica: ReplicaID,
                                         nowMs: UInt64, limits: VersioningLimits) throws(CartOperationError) {
        let item = items[sku]
        let current = item.map { $0.isVisible ? $0.totalQuantity : 0 } ?? 0
        if current <= 0, delta < 0 { throw .itemNotFound(sku: sku) }
        if current > 0, current.addingSaturating(delta) <= 0 {
            removeItem(sku, observed: observed)
        } else {
            try addContribution(delta, sku: sku, details: CartItemDetails(), at: replica, nowMs: nowMs, limits: limits)
        }
    }

    private mutating func setQuantity(sku: String, quantity: Int64, observed: CausalContext?, at replica: ReplicaID,
                                      nowMs: UInt64, limits: VersioningLimits) throws(CartOperationError) {
        if quantity == 0 {
            removeItem(sku, observed: observed)
            return
        }
        guard let item = items[sku], item.isVisible else {
            try addContribution(quantity, sku: sku, details: CartItemDetails(), at: replica, nowMs: nowMs, limits: limits)
            return
        }
        // Relative to what the client saw; if concurrent changes it did not see would leave
        // less than one unit, fall back to what this replica sees.
        let current = item.totalQuantity
        var delta = quantity.subtractingSaturating(item.quantity(observedBy: observed))
        if current.addingSaturating(delta) < 1 {
            delta = quantity.subtractingSaturating(current)
        }
        if delta != 0 {
            try addContribution(delta, sku: sku, details: CartItemDetails(), at: replica, nowMs: nowMs, limits: limits)
        }
    }

    /// Adds a quantity contribution (and detail fields) under a fresh dot. An item that exists
    /// but is not visible (quantity <= 0 after concurrent decrements) is reset first.
    private mutating func addContribution(_ delta: Int64, sku: String, details: CartItemDetails, at replica: ReplicaID,
                                          nowMs: UInt64, limits: VersioningLimits) throws(CartOperationError) {
        if items[sku] == nil, items.count >= limits.cartItemsPerOperationMax {
            throw .cartFull(itemsMax: limits.cartItemsPerOperationMax)
        }
        var item = items[sku] ?? CartItemState()
        if !item.isVisible {
            item.quantity.removeObserved(by: nil)
        }
        let dot = try issueDot(for: replica, limits: limits)
        item.addContribution(delta, dot: dot, addedAtMs: item.addedAtMs ?? nowMs, nowMs: nowMs,
                             perReplicaMax: limits.quantityEntriesPerReplicaMax)
        item.setDetails(details, dot: dot, nowMs: nowMs)
        items[sku] = item
    }

    /// Drops the entries of `sku` that `observed` covers (all if nil).
    private mutating func removeItem(_ sku: String, observed: CausalContext?) {
        guard var item = items[sku] else { return }
        item.removeObserved(by: observed)
        items[sku] = item.isEmpty ? nil : item
    }

    /// Takes this replica's next dot and records it in the context.
    private mutating func issueDot(for replica: ReplicaID, limits: VersioningLimits) throws(CartOperationError) -> Dot {
        let dot = context.nextDot(for: replica)
        if dot.counter > limits.counterMax { throw .counterExhausted(replica) }
        if dot.counter == 1, !context.replicas.contains(replica), context.replicas.count >= limits.clockEntriesMax {
            throw .tooManyReplicas(max: limits.clockEntriesMax)
        }
        context.insert(dot)
        return dot
    }
}

extension CartItemState {
    /// Writes the given detail fields under `dot`, superseding the entries this replica holds.
    mutating func setDetails(_ details: CartItemDetails, dot: Dot, nowMs: UInt64) {
        if let value = details.name {
            name.replaceAll(with: dot, RegisterEntry(value: value, timestampMs: nowMs))
        }
        if let value = details.priceMinor {
            price.replaceAll(with: dot, RegisterEntry(value: value, timestampMs: nowMs))
        }
        if let value = details.metadata {
            metadata.replaceAll(with: dot, RegisterEntry(value: ItemMetadata(pairs: value), timestampMs: nowMs))
        }
    }
}
