/// The replicated state of one cart item: four dot maps, one per field.
///
/// Invariants: every dot is in the owning cart's causal context; an item with no entry in any
/// field does not exist (it is removed from the cart, leaving only dots in the context).
/// Thread safety: a `Sendable` value type.
struct CartItemState: Hashable, Sendable {
    /// Quantity contributions; the quantity is their sum.
    var quantity = DotMap<QuantityEntry>()
    /// Name writes (LWW).
    var name = DotMap<RegisterEntry<String>>()
    /// Price writes in minor units (LWW).
    var price = DotMap<RegisterEntry<Int64>>()
    /// Metadata writes (LWW, whole map).
    var metadata = DotMap<RegisterEntry<ItemMetadata>>()

    /// True if no field holds an entry.
    var isEmpty: Bool {
        quantity.isEmpty && name.isEmpty && price.isEmpty && metadata.isEmpty
    }

    /// Number of dot-tagged entries over all fields.
    var entryCount: Int {
        quantity.entries.count + name.entries.count + price.entries.count + metadata.entries.count
    }

    /// Sum of the live contributions (saturating).
    var totalQuantity: Int64 {
        quantity.entries.values.reduce(Int64(0)) { $0.addingSaturating($1.delta) }
    }

    /// Sum of the contributions whose dots `observed` contains (all if nil).
    func quantity(observedBy observed: CausalContext?) -> Int64 {
        quantity.entries.reduce(Int64(0)) { sum, entry in
            guard observed?.contains(entry.key) ?? true else { return sum }
            return sum.addingSaturating(entry.value.delta)
        }
    }

    /// Shown to users only if the quantity is positive.
    var isVisible: Bool { totalQuantity > 0 }

    /// Earliest `addedAtMs` of the live contributions, if any.
    var addedAtMs: UInt64? {
        quantity.entries.values.map(\.addedAtMs).min()
    }

    /// Latest timestamp of any live entry.
    var updatedAtMs: UInt64 {
        let stamps = quantity.entries.values.map(\.timestampMs)
            + name.entries.values.map(\.timestampMs)
            + price.entries.values.map(\.timestampMs)
            + metadata.entries.values.map(\.timestampMs)
        return stamps.max() ?? 0
    }

    /// Drops every entry whose dot `observed` contains (all entries if nil): an observed remove.
    mutating func removeObserved(by observed: CausalContext?) {
        quantity.removeObserved(by: observed)
        name.removeObserved(by: observed)
        price.removeObserved(by: observed)
        metadata.removeObserved(by: observed)
    }

    /// Adds a contribution of `delta` under `dot`. If `dot.replica` already keeps `perReplicaMax`
    /// contributions, its oldest ones are folded into the new one (their deltas summed).
    mutating func addContribution(_ delta: Int64, dot: Dot, addedAtMs: UInt64, nowMs: UInt64, perReplicaMax: Int) {
        var total = delta
        var addedAt = addedAtMs
        let own = quantity.entries.keys.filter { $0.replica == dot.replica }.sorted()
        let keep = max(1, perReplicaMax) - 1
        for old in own.prefix(max(0, own.count - keep)) {
            if let folded = quantity.entries.removeValue(forKey: old) {
                total = total.addingSaturating(folded.delta)
                addedAt = min(addedAt, folded.addedAtMs)
            }
        }
        quantity.entries[dot] = QuantityEntry(delta: total, addedAtMs: addedAt, timestampMs: nowMs)
    }

    /// The join of two item states whose carts have seen `selfContext` and `otherContext`.
    func merged(with other: CartItemState, selfContext: CausalContext, otherContext: CausalContext) -> CartItemState {
        CartItemState(
            quantity: quantity.merged(with: other.quantity, selfContext: selfContext, otherContext: otherContext),
            name: name.merged(with: other.name, selfContext: selfContext, otherContext: otherContext),
            price: price.merged(with: other.price, selfContext: selfContext, otherContext: otherContext),
            metadata: metadata.merged(with: other.metadata, selfContext: selfContext, otherContext: otherContext)
        )
    }

    /// Every dot of every field.
    var allDots: [Dot] {
        Array(quantity.entries.keys) + Array(name.entries.keys) + Array(price.entries.keys) + Array(metadata.entries.keys)
    }

    /// The user-visible item, or nil if the quantity is not positive.
    func view(sku: String) -> CartItem? {
        let total = totalQuantity
        guard total > 0 else { return nil }
        return CartItem(
            sku: sku,
            quantity: total,
            name: name.lastWriterWinsEntry?.value ?? "",
            priceMinor: price.lastWriterWinsEntry?.value ?? 0,
            metadata: metadata.lastWriterWinsEntry?.value.pairs ?? [:],
            addedAtMs: addedAtMs ?? 0,
            updatedAtMs: updatedAtMs
        )
    }
}
