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
///   on top of it. A removal, set or re-add wins over a decrement it did not see: units are
///   counted per life of the item (`ItemState.lives`), the decrement takes only units of the
///   lives its coordinator saw, and a life never counts below zero.
/// - **Details survive with the item:** every add, increment, set and detail update re-asserts
///   name, price and metadata under its own dot (a decrement does not: it must not bring back
///   the details of a life that has ended). Changes and sets on an item the coordinator does
///   not show are refused (`itemNotFound`).
/// - **Retries apply once** (`OperationLog`): an id is remembered until every replica holds all
///   its applications and `operationWindowMs` has passed.
/// - **One encoding per state:** SKUs, names and metadata are brought to NFC when an operation
///   is applied, then compared and stored as bytes (`UTF8Text`).
///
/// Size: per item, one counter per replica that changed it (with at most
/// `checkpointsPerCounterMax` remembered positions) and one entry per field and incarnation per
/// concurrent writer; removed items stay, hidden, until `compactAfterRound(with:nowMs:)`
/// collects them at a point every replica has reached. Bound: (visible items + items removed since the last
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

    /// The dots under which operation `id` was applied, ascending (usually one; two if a retry
    /// reached another coordinator first); empty if this state does not remember it.
    public func applications(of id: OperationID) -> [Dot] {
        operations.entries[id].map { $0.entries.keys.sorted() } ?? []
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

    /// Applies what a merge or an operation may have made due: for every operation applied at
    /// more than one coordinator, its quantity change counts once (see
    /// `undoDuplicateApplications`), and a removal that reset a cancelled twin removes the change
    /// that counts (`TwinLink`). Only cancellations and links are added, decided by the state
    /// alone, so merge stays a join (this closure after it is monotone and idempotent).
    mutating func settle() {
        undoDuplicateApplications()
        for sku in items.keys where !(items[sku]?.twins.isEmpty ?? true) {
            items[sku]?.settleTwins()
            if items[sku]?.isEmpty ?? false { items[sku] = nil }
        }
    }

    /// Cancels the quantity change of every application of an operation id but its canonical
    /// one (the least dot) and links them to it. Their set, detail and removal effects stay:
    /// they carry the same values as the canonical one's (the same operation), and a re-asserted
    /// detail they hold may be the only copy of a concurrent rename their coordinator had. If
    /// one application was a removal (a decrement that reached zero at its coordinator), the
    /// canonical change is cancelled too: the operation took its effect there.
    mutating func undoDuplicateApplications() {
        var cancels: [UTF8Text: [ReplicaID: [ActorCounter.Cancellation]]] = [:]
        for applications in operations.entries.values where applications.entries.count > 1 {
            let sorted = applications.sortedEntries
            let canonical = sorted[0]
            let anyRemoval = sorted.contains { $0.payload.change == nil } && sorted.contains { $0.payload.change != nil }
            for (index, application) in sorted.enumerated() where index > 0 || anyRemoval {
                guard let sku = application.payload.sku, let change = application.payload.change,
                      items[sku]?.counters[application.dot.replica]?.start == change.start else { continue }
                cancels[sku, default: [:]][application.dot.replica, default: []].append(change.interval)
            }
            guard !anyRemoval, let sku = canonical.payload.sku, let change = canonical.payload.change else { continue }
            for twin in sorted.dropFirst() {
                guard twin.payload.sku == sku, let twinChange = twin.payload.change, twinChange.interval.isMinus == change.interval.isMinus
                else { continue }
                let link = TwinLink(replica: canonical.dot.replica, start: change.start, interval: change.interval,
                                    twinReplica: twin.dot.replica, twinStart: twinChange.start, twinInterval: twinChange.interval)
                if let item = items[sku], !item.twins.contains(link) {
                    items[sku]?.twins.append(link)
                    items[sku]?.twins.sort()
                }
            }
        }
        for (sku, byReplica) in cancels {
            for (replica, intervals) in byReplica { items[sku]?.counters[replica]?.cancel(intervals) }
        }
    }

    // MARK: - Compaction

    /// Collects what a point every replica has reached makes unnecessary: counters that no
    /// longer count anything (all their units removed or cancelled), hidden items with no unit
    /// added that still counts and no set, and operation ids whose every application `stable` covers and whose
    /// latest application is at least `operationWindowMs` older than `nowMs`. Returns the
    /// number of items collected.
    ///
    /// What is kept is exactly what can still matter: a hidden item with units added that still
    /// count (a life whose decrements outweigh them, +1 and -2 say) stays until an add or a
    /// removal resets it, because a removal that observed only its decrements shows it again.
    /// The details of a collected item cannot matter: it can only come back by an add, which
    /// starts afresh, every other replica having seen what this one has. An operation id is
    /// forgotten only once every replica holds all its applications (so no twin can still be
    /// met and undone) and the window has passed: a retry within the window is always answered
    /// as a duplicate, and so is one after it until some replica compacts.
    ///
    /// The contract (the cluster's anti-entropy establishes it; `compactAfterRound` is the safe
    /// way to call this): every replica of this cart has merged `stable`, and this state has
    /// merged, from every replica, a state of it whose context covers `stable`. Then every
    /// change made anywhere that `stable` does not cover is either in this state or was made
    /// after its replica had merged `stable`, so it carries every watermark this compaction
    /// relies on, and an old state arriving late names only events this state has seen. This
    /// state is compacted only if `stable` covers everything it has seen. (Compacting at a
    /// context that some replica has merged while its own concurrent changes have not reached
    /// this state can drop a decrement those changes count against, or a watermark an old copy of
    /// them lacks.) `nowMs` is this replica's wall clock (passed in, never read): replicas whose
    /// clocks run ahead forget ids early, so clocks must agree to well within the window.
    @discardableResult
    public mutating func compact(stable: CausalContext, nowMs: UInt64, limits: VersioningLimits = .default) -> Int {
        guard stable.covers(context) else { return 0 }
        operations.forget { applications in
            let latest = OperationLog.latest(applications)
            return nowMs >= latest && nowMs - latest >= limits.operationWindowMs
                && applications.entries.keys.allSatisfy { stable.contains($0) }
        }
        // Series that the operation log (an id applied twice) or a twin link names stay:
        // settling reads their watermarks. (A series is named by its start event, which belongs
        // to one item.)
        var named: Set<Dot> = []
        for applications in operations.entries.values where applications.entries.count > 1 {
            for (dot, application) in applications.entries {
                guard let change = application.change else { continue }
                named.insert(Dot(replica: dot.replica, counter: change.start))
            }
        }
        for item in items.values {
            for link in item.twins {
                named.insert(Dot(replica: link.replica, counter: link.start))
                named.insert(Dot(replica: link.twinReplica, counter: link.twinStart))
            }
        }
        var collected = 0
        for (sku, var item) in items {
            for (replica, counter) in item.counters
            where counter.livePlus == 0 && counter.liveMinus == 0 && !named.contains(Dot(replica: replica, counter: counter.start)) {
                item.counters[replica] = nil
            }
            // Hidden with no unit added that still counts and no set: nothing but an add (which
            // starts afresh) can show it again, resets only take units away.
            if item.sets.isEmpty && item.counters.values.allSatisfy({ $0.livePlus == 0 }) {
                items[sku] = nil
                collected += 1
            } else {
                items[sku] = item
            }
        }
        return collected
    }

    /// A full anti-entropy round, then compaction: merges `replicaStates` (the current state of
    /// every replica of this cart, as each sent it in this round) into this state and compacts at
    /// the meet of their contexts, which meets `compact(stable:nowMs:limits:)`'s contract by
    /// construction. Returns the number of items collected (0 if the meet does not cover this
    /// state, which already holds more than the round's states).
    @discardableResult
    public mutating func compactAfterRound(with replicaStates: [CartState], nowMs: UInt64,
                                           limits: VersioningLimits = .default) -> Int {
        guard let first = replicaStates.first else { return 0 }
        var stable = first.context
        for state in replicaStates {
            merge(state, limits: limits)
            stable = stable.intersection(state.context)
        }
        return compact(stable: stable, nowMs: nowMs, limits: limits)
    }

    /// Forgets the context entries of `retired` replicas that nothing in the cart uses.
    ///
    /// Call only when those (node, epoch) pairs will never coordinate again and anti-entropy has
    /// confirmed every replica of this cart has merged past them. Cost if called early: a stale
    /// replica's state can bring back an item those replicas added and someone removed.
    public mutating func forgetRetiredReplicas(_ retired: Set<ReplicaID>) {
        var used = Set(items.values.flatMap { $0.allDots.map(\.replica) })
        for applications in operations.entries.values { used.formUnion(applications.entries.keys.map(\.replica)) }
        for replica in retired where !used.contains(replica) {
            context.forget(replica)
        }
    }
}
