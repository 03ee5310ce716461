/// The write limits and pruning of retired epochs.
///
/// Policy (also in data-format.md, "Sibling sets: limits"):
/// - No time-based pruning, ever, and no cap at merge: a merge is the pure join.
/// - At a write, past `siblingsPerKeyMax` live siblings or `siblingBytesPerWriteMax` encoded
///   bytes, the oldest are dropped one at a time. "Oldest" is the least
///   `(timestampMs, replica, counter)` among each entry's oldest live value (only an entry's
///   oldest value can be dropped without breaking the DVVSet representation). The drop marks the
///   version dead, as if the write had overwritten it, so it spreads by merge and every replica
///   converges. Cost: an acknowledged write is lost; the write reports how many, so the caller
///   can export it. With causal contexts on writes it should stay 0. The write being
///   acknowledged is never dropped. The result depends only on the state being written, never
///   on the order of earlier merges.
/// - Why merges stay storable: a replica's entry holds only values of that replica's latest
///   write, which kept the whole set within the budget; so a merge of any states holds at most
///   `siblingBytesPerWriteMax` per coordinating replica, and `recordBytesMax` is
///   `clockEntriesMax` (128) times the budget.
/// - Retired epochs: `forgetRetiredReplicas(_:)` removes value-less entries of (node, epoch)
///   pairs that will never coordinate again, when the cluster knows every replica of the key has
///   seen them. Cost if done early: a stale replica can bring back an overwritten version of that
///   epoch as a sibling (a resurrected old value, never a lost one). A write that would add an
///   entry past `clockEntriesMax` is refused (`SiblingWriteError.tooManyReplicas`).
extension SiblingSet {
    /// Drops the oldest siblings until at most `siblingsPerKeyMax` remain within
    /// `siblingBytesPerWriteMax` encoded bytes; returns how many it dropped. `protecting` (the
    /// write being acknowledged) is never dropped.
    mutating func enforceWriteLimits(_ limits: VersioningLimits, protecting: Dot) -> Int {
        var dropped = 0
        var live = siblingCount
        var bytes = entries.reduce(0) { total, entry in
            entry.values.reduce(total) { $0 + SiblingSet.encodedBytes(of: $1) }
        }
        let cap = max(1, limits.siblingsPerKeyMax)
        while live > cap || bytes > limits.siblingBytesPerWriteMax, let victim = oldestDroppableEntry(protecting: protecting) {
            bytes -= SiblingSet.encodedBytes(of: entries[victim].values.removeLast())
            live -= 1
            dropped += 1
        }
        return dropped
    }

    /// Bytes `sibling` takes in a record (flags, timestamp, length, value): what the write
    /// budget counts.
    static func encodedBytes(of sibling: Sibling) -> Int {
        1 + varintBytes(sibling.timestampMs) + varintBytes(UInt64(sibling.value.count)) + sibling.value.count
    }

    private static func varintBytes(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
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
    private func oldestDroppableEntry(protecting: Dot) -> Int? {
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
}
