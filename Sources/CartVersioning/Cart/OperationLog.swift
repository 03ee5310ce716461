/// The operation ids a cart remembers, so that a client's retry applies once.
///
/// Each entry records every application of one id: normally one, at the coordinator that ran
/// it. A coordinator that finds the id already there does nothing (`CartState.apply` reports a
/// duplicate). Two coordinators can still both apply it (a client that timed out at one retried
/// at another before the first reached it); when their states meet, the log holds two
/// applications of the id, and the merge keeps the one with the least dot and undoes the other:
/// its set and detail entries are dropped and its quantity change is cancelled in its counter
/// (`ActorCounter.cancel`). A removal's effect cannot be undone, but a retried removal removes
/// what the client observed in both applications, which is the same.
///
/// Window: an id is remembered while its latest application is within `operationWindowMs` of the
/// newest application the log holds, and among the `operationLogMax` newest. Pruning depends on
/// the log's contents only, never on a clock read, so merge stays a join; a retry (or a
/// duplicate meeting its twin) after the window applies again.
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

    /// Records an application of `id` at `timestampMs`, then prunes.
    mutating func record(_ id: OperationID, _ application: Application, timestampMs: UInt64, limits: VersioningLimits) {
        var entry = entries[id] ?? Entry(timestampMs: timestampMs, applications: [])
        entry.timestampMs = max(entry.timestampMs, timestampMs)
        if !entry.applications.contains(application) {
            entry.applications.append(application)
            entry.applications.sort()
        }
        entries[id] = entry
        prune(limits: limits)
    }

    /// Union with `other`, then prune.
    mutating func merge(_ other: OperationLog, limits: VersioningLimits) {
        for (id, theirs) in other.entries {
            guard var mine = entries[id] else {
                entries[id] = theirs
                continue
            }
            mine.timestampMs = max(mine.timestampMs, theirs.timestampMs)
            mine.applications = Array(Set(mine.applications + theirs.applications)).sorted()
            entries[id] = mine
        }
        prune(limits: limits)
    }

    /// Keeps the ids within the window of the newest, at most `operationLogMax` of them.
    mutating func prune(limits: VersioningLimits) {
        guard let newest = entries.values.map(\.timestampMs).max() else { return }
        let cutoff = newest > limits.operationWindowMs ? newest - limits.operationWindowMs : 0
        entries = entries.filter { $0.value.timestampMs >= cutoff }
        if entries.count > limits.operationLogMax {
            let kept = entries.sorted { ($0.value.timestampMs, $0.key) > ($1.value.timestampMs, $1.key) }.prefix(limits.operationLogMax)
            entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
    }

    /// The applications to undo: every one but the canonical of each id applied more than once.
    var duplicateApplications: [Application] {
        entries.values.flatMap { $0.applications.dropFirst() }
    }
}
