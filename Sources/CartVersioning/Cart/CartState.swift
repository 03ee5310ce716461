/// A replicated shopping cart: an add-wins, observed-remove map SKU → item (a delta-state
/// ORMap in the style of ORSWOT), stored under one key with the `.cart` policy.
///
/// State: a causal context (every operation dot this state has seen) and, per SKU, four dot
/// maps: quantity contributions, and LWW entries for name, price and metadata. Each operation
/// at a replica takes a fresh dot `(replica, n)`.
///
/// Semantics:
/// - Add wins: a removal drops only the entries whose dots it observed; an add or increment
///   concurrent with the removal survives, with its own delta only.
/// - Quantity = sum of live contributions, so concurrent increments all count (two devices
///   adding one unit each give two). Setting a quantity is a change relative to what the client
///   observed.
/// - No tombstones: a removed item leaves only its dots in the context, whose size is one entry
///   per replica id (plus a dot cloud that is empty under full-state merges).
/// - Bounded per item: each replica keeps at most `quantityEntriesPerReplicaMax` contributions
///   per item; past it, its oldest contribution is folded into the new one. The exact semantics
///   above then hold unless a removal concurrent with that new write had observed the folded
///   contribution: the removal then fails to reset the folded delta (it survives inside the new
///   contribution). A precise, bounded alternative does not exist without knowing causal
///   stability (which cuts every replica has seen); see data-format.md ("Record codec").
///
/// Merge is a join: commutative, associative, idempotent. Operations run through `apply`, merges
/// through `merge`; both are pure value mutations with time passed in, never read.
///
/// Thread safety: a `Sendable` value type; each copy is independent.
public struct CartState: Hashable, Sendable {
    /// Every operation dot this state has seen.
    public internal(set) var context: CausalContext
    /// Live items by SKU (including items whose quantity is not positive, which are not shown).
    var items: [String: CartItemState]

    /// The empty cart.
    public init() {
        context = CausalContext()
        items = [:]
    }

    /// A cart from parts the caller has validated (decoder, tests).
    init(validatedContext: CausalContext, items: [String: CartItemState]) {
        self.context = validatedContext
        self.items = items
    }

    /// The user-visible cart: items with a positive quantity, ascending by SKU (UTF-8 bytes),
    /// and the causal context a client sends back with its next operation.
    public var view: CartView {
        let visible = items.compactMap { $0.value.view(sku: $0.key) }.sorted { $0.sku.utf8Precedes($1.sku) }
        return CartView(items: visible, context: context)
    }

    /// The visible item `sku`, if any.
    public func item(_ sku: String) -> CartItem? {
        items[sku]?.view(sku: sku)
    }

    /// Number of stored items, visible or not.
    public var storedItemCount: Int { items.count }

    /// Number of dot-tagged entries over all items (a size metric).
    public var storedEntryCount: Int { items.values.reduce(0) { $0 + $1.entryCount } }

    /// Joins `other` into `self`.
    public mutating func merge(_ other: CartState) {
        var merged: [String: CartItemState] = [:]
        merged.reserveCapacity(max(items.count, other.items.count))
        for sku in Set(items.keys).union(other.items.keys) {
            let mine = items[sku] ?? CartItemState()
            let theirs = other.items[sku] ?? CartItemState()
            let item = mine.merged(with: theirs, selfContext: context, otherContext: other.context)
            if !item.isEmpty {
                merged[sku] = item
            }
        }
        items = merged
        context.merge(other.context)
    }

    /// The join of two carts, as a new cart.
    public func merging(_ other: CartState) -> CartState {
        var result = self
        result.merge(other)
        return result
    }

    /// Forgets the context entries of `retired` replicas that no live item entry uses.
    ///
    /// Call only when those (node, epoch) pairs will never coordinate again and anti-entropy has
    /// confirmed every replica of this cart has merged past them. Cost if called early: a stale
    /// replica's state can bring back an item those replicas added and someone removed.
    public mutating func forgetRetiredReplicas(_ retired: Set<ReplicaID>) {
        let used = Set(items.values.flatMap { $0.allDots.map(\.replica) })
        for replica in retired where !used.contains(replica) {
            context.forget(replica)
        }
    }
}
