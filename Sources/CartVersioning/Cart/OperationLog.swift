/// The operation ids a cart remembers, so that a client's retry applies once.
///
/// Each entry records every application of one id: normally one, at the coordinator that ran
/// it. A coordinator that finds the id already there does nothing (`CartState.apply` reports a
/// duplicate). Two coordinators can still both apply it (a client that timed out at one retried
/// at another before the first reached it); when their states meet, the log holds both
/// applications and the cart undoes all but one (`CartState.undoDuplicateApplications`).
///
/// Merge is a join by the dot rule, like every dot store of the cart: an entry held on both sides
/// keeps the union of its applications; an entry held on one side only stays unless the other
/// side has seen all its applications (then the other side forgot it). Forgetting happens only
/// locally: at compaction, once every replica holds all of an id's applications and the window
/// has passed (`CartState.compact`), and at an operation, past `operationLogMax` ids, the
/// oldest (a safety net for a flood of operations between compactions; a retry of a forgotten
/// id applies again). No clock is read and nothing is pruned in a merge, so merges stay
/// associative whatever the timestamps.
///
/// Thread safety: a `Sendable` value type.
struct OperationLog: Hashable, Sendable {
    /// One application of an operation.
    struct Application: Hashable, Sendable, Comparable {
        /// The dot its coordinator issued for it.
        var dot: Dot
        /// The item it changed (nil for `clear`).
        var sku: UTF8Text?
        /// The quantity change it made: the series (its `start`) and the interval it occupies.
        var change: (start: UInt64, interval: ActorCounter.Cancellation)?

        static func == (lhs: Application, rhs: Application) -> Bool {
            lhs.dot == rhs.dot && lhs.sku == rhs.sku && lhs.change?.start == rhs.change?.start
                && lhs.change?.interval == rhs.change?.interval
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(dot)
            hasher.combine(sku)
            hasher.combine(change?.start)
            hasher.combine(change?.interval)
        }

        static func < (lhs: Application, rhs: Application) -> Bool { lhs.dot < rhs.dot }
    }

    struct Entry: Hashable, Sendable {
        /// Wall-clock time of its latest application.
        var timestampMs: UInt64
        /// Strictly ascending by dot; the first is canonical.
        var applications: [Application]
    }

    var entries: [OperationID: Entry] = [:]

    /// The canonical application of `id`, if remembered.
    func canonical(_ id: OperationID) -> Application? { entries[id]?.applications.first }

    /// Records an application of `id` at `timestampMs`; past `operationLogMax` ids, forgets the
    /// oldest (by latest application, then id bytes), never `id` itself.
    mutating func record(_ id: OperationID, _ application: Application, timestampMs: UInt64, limits: VersioningLimits) {
        var entry = entries[id] ?? Entry(timestampMs: timestampMs, applications: [])
        entry.timestampMs = max(entry.timestampMs, timestampMs)
        if !entry.applications.contains(application) {
            entry.applications.append(application)
            entry.applications.sort()
        }
        entries[id] = entry
        let excess = entries.count - max(1, limits.operationLogMax)
        if excess > 0 {
            let oldest = entries.filter { $0.key != id }.sorted { ($0.value.timestampMs, $0.key) < ($1.value.timestampMs, $1.key) }
            for (old, _) in oldest.prefix(excess) { entries[old] = nil }
        }
    }

    /// The join with `other`, whose owner has seen `otherContext` (this log's owner has seen
    /// `selfContext`).
    mutating func merge(_ other: OperationLog, selfContext: CausalContext, otherContext: CausalContext) {
        var merged: [OperationID: Entry] = [:]
        for (id, mine) in entries {
            if var theirs = other.entries[id] {
                theirs.timestampMs = max(mine.timestampMs, theirs.timestampMs)
                theirs.applications = Array(Set(mine.applications + theirs.applications)).sorted()
                merged[id] = theirs
            } else if !mine.applications.allSatisfy({ otherContext.contains($0.dot) }) {
                merged[id] = mine
            }
        }
        for (id, theirs) in other.entries where entries[id] == nil {
            if !theirs.applications.allSatisfy({ selfContext.contains($0.dot) }) { merged[id] = theirs }
        }
        entries = merged
    }

    /// Forgets the entries `shouldForget` selects.
    mutating func forget(where shouldForget: (Entry) -> Bool) {
        entries = entries.filter { !shouldForget($0.value) }
    }
}
