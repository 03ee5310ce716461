/// The operation ids a cart remembers, so that a client's retry applies once.
///
/// Each entry records every application of one id, by the dot its coordinator issued for it:
/// normally one. A coordinator that finds the id already there does nothing (`CartState.apply`
/// reports a duplicate). Two coordinators can still both apply it (a client that timed out at
/// one retried at another before the first reached it); when their states meet, the log holds
/// both applications and `CartState.settle` counts the operation's units once.
///
/// Merge is a join by the dot rule, application by application, like every dot store of the
/// cart: an application held on both sides stays; held on one side only, it stays unless the
/// other side has seen its dot (then the other side forgot it). An id with no application left
/// is gone. Forgetting happens only at compaction, once every replica holds all of an id's
/// applications and the window has passed (`CartState.compact`): no merge prunes or reads a
/// clock, so merges stay associative, and an application once forgotten never comes back with
/// an old state.
///
/// Thread safety: a `Sendable` value type.
struct OperationLog: Hashable, Sendable {
    /// One application of an operation, tagged by its dot.
    struct Application: Hashable, Sendable, Comparable {
        /// The item it changed (nil for `clear`).
        var sku: UTF8Text?
        /// The quantity change it made: the series (its `start`) and the interval it occupies.
        var change: (start: UInt64, interval: ActorCounter.Cancellation)?
        /// Its coordinator's wall clock when it applied it.
        var timestampMs: UInt64

        static func == (lhs: Application, rhs: Application) -> Bool {
            lhs.sku == rhs.sku && lhs.change?.start == rhs.change?.start && lhs.change?.interval == rhs.change?.interval
                && lhs.timestampMs == rhs.timestampMs
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(sku)
            hasher.combine(change?.start)
            hasher.combine(change?.interval)
            hasher.combine(timestampMs)
        }

        /// An arbitrary total order, so that two payloads claimed for one dot (only a damaged
        /// record can hold them) merge the same way in either order.
        static func < (lhs: Application, rhs: Application) -> Bool {
            let left = (lhs.sku?.bytes ?? [], lhs.change?.start ?? 0, lhs.change?.interval.isMinus ?? false,
                        lhs.change?.interval.lower ?? 0, lhs.change?.interval.upper ?? 0, lhs.change == nil, lhs.timestampMs)
            let right = (rhs.sku?.bytes ?? [], rhs.change?.start ?? 0, rhs.change?.interval.isMinus ?? false,
                         rhs.change?.interval.lower ?? 0, rhs.change?.interval.upper ?? 0, rhs.change == nil, rhs.timestampMs)
            if left.0 != right.0 { return left.0.lexicographicallyPrecedes(right.0) }
            if left.1 != right.1 { return left.1 < right.1 }
            if left.2 != right.2 { return !left.2 }
            if left.3 != right.3 { return left.3 < right.3 }
            if left.4 != right.4 { return left.4 < right.4 }
            if left.5 != right.5 { return !left.5 }
            return left.6 < right.6
        }
    }

    /// Operation id → its applications.
    var entries: [OperationID: DotMap<Application>] = [:]

    /// The canonical application of `id` (the least dot), if remembered.
    func canonical(_ id: OperationID) -> Dot? { entries[id]?.entries.keys.min() }

    /// Records the application `dot` of `id`.
    mutating func record(_ id: OperationID, _ dot: Dot, _ application: Application) {
        entries[id, default: DotMap()].entries[dot] = application
    }

    /// The join with `other`, whose owner has seen `otherContext` (this log's owner has seen
    /// `selfContext`).
    mutating func merge(_ other: OperationLog, selfContext: CausalContext, otherContext: CausalContext) {
        var merged: [OperationID: DotMap<Application>] = [:]
        for id in Set(entries.keys).union(other.entries.keys) {
            let applications = (entries[id] ?? DotMap()).merged(with: other.entries[id] ?? DotMap(), selfContext: selfContext,
                                                                otherContext: otherContext)
            if !applications.isEmpty { merged[id] = applications }
        }
        entries = merged
    }

    /// The time of the latest application of an entry.
    static func latest(_ applications: DotMap<Application>) -> UInt64 {
        applications.entries.values.map(\.timestampMs).max() ?? 0
    }

    /// Forgets the ids whose applications `shouldForget` selects.
    mutating func forget(where shouldForget: (DotMap<Application>) -> Bool) {
        entries = entries.filter { !shouldForget($0.value) }
    }
}
