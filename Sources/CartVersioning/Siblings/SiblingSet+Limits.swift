/// The sibling cap, the clock-size safety net and pruning of retired epochs.
///
/// Policy (also in data-format.md ("Record codec")):
/// - No time-based pruning, ever.
/// - Sibling cap: past `siblingsPerKeyMax` live siblings, the oldest are dropped one at a time.
///   "Oldest" is the least `(timestampMs, replica, counter)` among each entry's oldest live value
///   (only an entry's oldest value can be dropped without breaking the DVVSet representation).
///   The drop marks the version dead, as if a write had overwritten it, so it spreads by merge
///   and every replica converges. Cost: an acknowledged write is lost. The count is returned so
///   the caller can export it; with carts as CRDTs and causal contexts on writes it should stay 0.
/// - Retired epochs: `forgetRetiredReplicas(_:)` removes value-less entries of (node, epoch)
///   pairs that will never coordinate again, when the cluster knows every replica of the key has
///   seen them. Cost if done early: a stale replica can bring back an overwritten version of that
///   epoch as a sibling (a resurrected old value, never a lost one).
/// - Clock cap: past `clockEntriesMax` entries, value-less entries are forgotten, retired-looking
///   ones first (an older epoch of a node that also has a newer one), then ascending by replica.
///   Same cost as above; a safety net only.
extension SiblingSet {
    /// Applies the sibling cap and the clock cap; returns the number of siblings dropped.
    /// `protecting` is never dropped (the write being acknowledged right now).
    mutating func enforceLimits(_ limits: VersioningLimits, protecting: Dot?) -> Int {
        var dropped = 0
        var live = siblingCount
        let cap = max(1, limits.siblingsPerKeyMax)
        while live > cap, let victim = oldestDroppableEntry(protecting: protecting) {
            entries[victim].values.removeLast()
            live -= 1
            dropped += 1
        }
        if entries.count > max(1, limits.clockEntriesMax) {
            foldClockEntries(toAtMost: max(1, limits.clockEntriesMax))
        }
        return dropped
    }

    /// Removes the entries of `retired` replicas that hold no live value.
    ///
    /// Call only when `retired` will never coordinate again (an old epoch) and anti-entropy has
    /// confirmed every replica of this key holds these entries at the same counters. Entries
    /// that still carry live values are kept: they are data.
    public mutating func forgetRetiredReplicas(_ retired: Set<ReplicaID>) {
        entries.removeAll { retired.contains($0.replica) && $0.values.isEmpty }
    }

    /// Index of the entry whose oldest live value is the oldest overall, if any may be dropped.
    private func oldestDroppableEntry(protecting: Dot?) -> Int? {
        var best: (index: Int, key: (UInt64, ReplicaID, UInt64))?
        for (index, entry) in entries.enumerated() {
            guard let oldest = entry.values.last else { continue }
            let dot = Dot(replica: entry.replica, counter: entry.deadPrefix + 1)
            if dot == protecting { continue }
            let key = (oldest.timestampMs, entry.replica, dot.counter)
            if let current = best, !(key < current.key) { continue }
            best = (index, key)
        }
        return best?.index
    }

    /// Forgets value-less entries until at most `limit` remain (or none is value-less).
    private mutating func foldClockEntries(toAtMost limit: Int) {
        let newestEpoch = Dictionary(entries.map { ($0.replica.node, $0.replica.epoch) },
                                     uniquingKeysWith: { max($0, $1) })
        let candidates = entries.filter(\.values.isEmpty).map(\.replica).sorted { lhs, rhs in
            let lhsRetired = (newestEpoch[lhs.node] ?? lhs.epoch) > lhs.epoch
            let rhsRetired = (newestEpoch[rhs.node] ?? rhs.epoch) > rhs.epoch
            if lhsRetired != rhsRetired { return lhsRetired }
            return lhs < rhs
        }
        let excess = entries.count - limit
        let forgotten = Set(candidates.prefix(max(0, excess)))
        entries.removeAll { forgotten.contains($0.replica) }
    }
}
