/// A replicated shopping cart: a map SKU → item under one key with the `.cart` policy, merged
/// as a CRDT (a join: commutative, associative, idempotent), with exact quantities.
///
/// State: a causal context (every operation's dot this state has seen), the items by SKU bytes
/// (`ItemState`), and the recent operation ids (`OperationLog`). Every operation takes a fresh
/// dot `(replica, n)` from its coordinator.
///
/// Semantics (data-format.md "Cart semantics" has the table):
/// - **Quantities are exact.** Each replica's changes to an item form a cumulative series
///   (`ActorCounter`); a removal removes exactly the units it observed, an add or change
///   concurrent with it survives with its own units only, concurrent increments all count, and a
///   removed unit never comes back, under any merge order. Nothing is folded or pruned by time.
/// - **"Set quantity to N" means N.** Concurrent sets to the same N give N; to different values
///   the greatest `(timestampMs, replica, counter)` wins; increments concurrent with a set count
///   on top of it. A removal, set or re-add wins over a decrement it did not see (the decrement
///   applied to a life of the item that has ended; see `ItemState.incarnations`).
/// - **Details survive with the item:** every quantity change re-asserts name, price and
///   metadata under its own dot.
/// - **Retries apply once** (`OperationLog`): an id is remembered until every replica holds all
///   its applications and `operationWindowMs` has passed.
/// - **One encoding per state:** SKUs, names and metadata are brought to NFC when an operation
///   is applied, then compared and stored as bytes (`UTF8Text`).
///
/// Size: per item, one counter per replica that changed it (with at most
/// `checkpointsPerCounterMax` remembered positions) and one entry per field and incarnation per
/// concurrent writer; removed items stay, hidden, until `compact(stable:nowMs:)` collects them at
/// a point every replica has reached. Bound: (visible items + items removed since the last
/// compaction) × replicas, plus the operation log.
///
/// Thread safety: a `Sendable` value type; each copy is independent.
public struct CartState: Hashable, Sendable {
    /// Every operation dot this state has seen.
    public internal(set) var context: CausalContext
    /// Items by SKU bytes, including hidden ones (quantity not positive) not yet collected.
    var items: [UTF8Text: ItemState]
    /// Recently applied operation ids.
    var operations: OperationLog

    /// The empty cart.
    public init() {
        context = CausalContext()
        items = [:]
        operations = OperationLog()
    }

    /// A cart from parts the caller has validated (decoder, tests).
    init(validatedContext: CausalContext, items: [UTF8Text: ItemState], operations: OperationLog) {
        self.context = validatedContext
        self.items = items
        self.operations = operations
    }

    /// The user-visible cart: items with a positive quantity, ascending by SKU bytes, and the
    /// causal context a client sends back with its next operation.
    public var view: CartView {
        let visible = items.sorted { $0.key < $1.key }.compactMap { $0.value.view(sku: $0.key) }
        return CartView(items: visible, context: context)
    }

    /// The visible item `sku` (in NFC, as operations store it), if any.
    public func item(_ sku: String) -> CartItem? {
        let key = UTF8Text(sku.normalizedNFC)
        return items[key]?.view(sku: key)
    }

    /// Number of stored items, visible or not.
    public var storedItemCount: Int { items.count }

    /// Number of counters and dot-tagged entries over all items (a size metric).
    public var storedEntryCount: Int { items.values.reduce(0) { $0 + $1.entryCount } }

    /// Number of operation ids remembered.
    public var rememberedOperationCount: Int { operations.entries.count }

    // MARK: - Merge

    /// Joins `other` into `self`. Never fails and never drops anything the join keeps: merges
    /// run during replication and repair, where no client can be told.
    public mutating func merge(_ other: CartState, limits: VersioningLimits = .default) {
        var merged: [UTF8Text: ItemState] = [:]
        merged.reserveCapacity(max(items.count, other.items.count))
        for sku in Set(items.keys).union(other.items.keys) {
            let item = (items[sku] ?? ItemState()).merged(with: other.items[sku] ?? ItemState(), selfContext: context,
                                                          otherContext: other.context, checkpointsMax: limits.checkpointsPerCounterMax)
            if !item.isEmpty { merged[sku] = item }
        }
        operations.merge(other.operations, selfContext: context, otherContext: other.context)
        items = merged
        context.merge(other.context)
        settle()
    }

    /// The join of two carts, as a new cart.
    public func merging(_ other: CartState, limits: VersioningLimits = .default) -> CartState {
        var result = self
        result.merge(other, limits: limits)
        return result
    }

    /// Applies what a merge or an operation may have made due: undoes duplicate applications
    /// and voids decrements whose incarnations have ended. Both only add cancellations, and
    /// both are decided by the state alone, so merge stays a join (a closure applied after it:
    /// monotone, idempotent).
    mutating func settle() {
        undoDuplicateApplications()
        for sku in items.keys where items[sku]?.counters.values.contains(where: { !$0.eras.isEmpty }) ?? false {
            items[sku]?.voidEndedEras(context: context)
        }
    }

    /// Undoes every application of an operation id but its canonical one (the least dot) by
    /// cancelling its quantity change. Their set and detail entries stay: they carry the same
    /// values as the canonical one's (the same operation), and a re-asserted detail they hold may
    /// be the only copy of a concurrent rename their coordinator had. If a removal has reset the
    /// change of any application, or one application was a removal (a decrement that reached
    /// zero at its coordinator), the canonical change is cancelled too: the operation took its
    /// effect there, and the client's token saw "the" operation, whichever coordinator it read.
    mutating func undoDuplicateApplications() {
        for entry in operations.entries.values where entry.applications.count > 1 {
            let anyRemoval = entry.applications.contains { $0.change == nil } && entry.applications.contains { $0.change != nil }
            let cancelAll = anyRemoval || entry.applications.contains { changeWasReset($0) }
            for (index, application) in entry.applications.enumerated() where index > 0 || cancelAll {
                guard let sku = application.sku, let change = application.change,
                      var counter = items[sku]?.counters[application.dot.replica], counter.start == change.start else { continue }
                counter.cancel(change.interval)
                items[sku]?.counters[application.dot.replica] = counter
            }
        }
    }

    /// True if a removal reset the units `application` changed (the series' watermark passed
    /// its interval). A series no longer held (collected, or restarted) counts as not reset:
    /// compaction keeps every series the operation log still names, so this happens only past
    /// the window.
    private func changeWasReset(_ application: OperationLog.Application) -> Bool {
        guard let sku = application.sku, let change = application.change,
              let counter = items[sku]?.counters[application.dot.replica], counter.start == change.start else { return false }
        return change.interval.upper <= (change.interval.isMinus ? counter.resetMinus : counter.resetPlus)
    }

    // MARK: - Compaction

    /// Collects what a point every replica has reached makes unnecessary: counters that no
    /// longer count anything (all their units removed or cancelled), hidden items left with
    /// nothing that counts, and operation ids whose every application `stable` covers and whose
    /// latest application is at least `operationWindowMs` older than `nowMs`. Returns the
    /// number of items collected.
    ///
    /// What is kept is exactly what can still matter: a hidden item whose counted changes do not
    /// cancel out (concurrent decrements past zero, -1 and +1 say) stays until an add or a
    /// removal resets it, because a removal that observed only its -1 makes it visible again.
    /// The details of a collected item cannot matter: it can only come back by an add, which
    /// starts afresh, every other replica having seen what this one has. An operation id is
    /// forgotten only once every replica holds all its applications (so no twin can still be
    /// met and undone) and the window has passed: a retry within the window is always answered
    /// as a duplicate, and so is one after it until some replica compacts.
    ///
    /// `stable` must be a context every replica of this cart has merged (the cluster's
    /// anti-entropy establishes it). This state is compacted only if `stable` covers everything
    /// it has seen, so that every removal it knows of is known everywhere: a replica that later
    /// changes a collected series either still holds its watermarks or starts a new series.
    /// `nowMs` is this replica's wall clock (passed in, never read): replicas whose clocks run
    /// ahead forget ids early, so clocks must agree to well within the window.
    @discardableResult
    public mutating func compact(stable: CausalContext, nowMs: UInt64, limits: VersioningLimits = .default) -> Int {
        guard stable.covers(context) else { return 0 }
        operations.forget { entry in
            nowMs >= entry.timestampMs && nowMs - entry.timestampMs >= limits.operationWindowMs
                && entry.applications.allSatisfy { stable.contains($0.dot) }
        }
        // Series the operation log names stay: undoing a duplicate reads their watermarks.
        // (A series is named by its start event, which belongs to one item.)
        var named: Set<Dot> = []
        for entry in operations.entries.values where entry.applications.count > 1 {
            for application in entry.applications {
                guard let change = application.change else { continue }
                named.insert(Dot(replica: application.dot.replica, counter: change.start))
            }
        }
        var collected = 0
        for (sku, var item) in items {
            for (replica, counter) in item.counters
            where counter.livePlus == 0 && counter.liveMinus == 0 && !named.contains(Dot(replica: replica, counter: counter.start)) {
                item.counters[replica] = nil
            }
            if item.counters.isEmpty && item.sets.isEmpty {
                items[sku] = nil
                collected += 1
            } else {
                items[sku] = item
            }
        }
        return collected
    }

    /// Forgets the context entries of `retired` replicas that nothing in the cart uses.
    ///
    /// Call only when those (node, epoch) pairs will never coordinate again and anti-entropy has
    /// confirmed every replica of this cart has merged past them. Cost if called early: a stale
    /// replica's state can bring back an item those replicas added and someone removed.
    public mutating func forgetRetiredReplicas(_ retired: Set<ReplicaID>) {
        var used = Set(items.values.flatMap { $0.allDots.map(\.replica) })
        for entry in operations.entries.values { used.formUnion(entry.applications.map(\.dot.replica)) }
        for replica in retired where !used.contains(replica) {
            context.forget(replica)
        }
    }
}
