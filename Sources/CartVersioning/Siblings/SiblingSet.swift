/// The stored versions of one opaque key: a dotted version vector set (DVVSet, as in Riak 2.x's
/// `dvvset.erl`).
///
/// Representation: one entry per coordinating replica, ascending by `ReplicaID`. An entry
/// `(replica, counter, values)` says that events `1...counter` of `replica` are known and that
/// `values[i]` (newest first) is the still-live version written by event `counter - i`. Events
/// below `counter - values.count` are known and dead: something overwrote them. The live values
/// across all entries are the siblings: the versions no other version dominates.
///
/// Invariants: entries strictly ascending by replica; `1 <= counter`; `values.count <= counter`;
/// a dot names one version forever. Merging is a join (pointwise max of `counter` and of the dead
/// prefix), so it is commutative, associative and idempotent.
///
/// Size: one entry per (node, epoch) that ever coordinated a write to this key, plus the live
/// siblings. A write keeps at most `siblingsPerKeyMax` of them within `siblingBytesPerWriteMax`
/// (see `enforceWriteLimits`), and a replica's entry only ever holds values of its own latest
/// write, so any merge holds at most that much per coordinating replica. Entries of retired
/// epochs are removed only by `forgetRetiredReplicas(_:)`, only when the caller knows it is
/// safe. Nothing is pruned by time.
///
/// Thread safety: a `Sendable` value type; each copy is independent.
public struct SiblingSet: Hashable, Sendable {
    /// One replica's slice of the clock and its live values.
    struct Entry: Hashable, Sendable {
        var replica: ReplicaID
        var counter: UInt64
        /// Live values, newest first: `values[i]` has dot `(replica, counter - i)`.
        var values: [Sibling]

        /// Events `1...deadPrefix` are known and no longer live.
        var deadPrefix: UInt64 { counter - UInt64(values.count) }

        /// The join of two entries of the same replica.
        func merged(with other: Entry) -> Entry {
            let counter = max(self.counter, other.counter)
            let dead = max(deadPrefix, other.deadPrefix)
            // The entry with the larger counter holds every live dot in `dead + 1 ... counter`.
            let source = self.counter >= other.counter ? self : other
            let keep = Int(counter - dead)
            return Entry(replica: replica, counter: counter, values: Array(source.values.prefix(keep)))
        }
    }

    /// A sibling with the dot that names it.
    public struct Version: Hashable, Sendable {
        /// The write that produced this version.
        public var dot: Dot
        /// The version itself.
        public var sibling: Sibling

        /// Creates a version.
        public init(dot: Dot, sibling: Sibling) {
            self.dot = dot
            self.sibling = sibling
        }
    }

    /// What a write did.
    public struct WriteOutcome: Hashable, Sendable {
        /// The dot of the new version.
        public var dot: Dot
        /// Siblings dropped because the cap was reached (export it as a metric).
        public var droppedSiblingCount: Int
    }

    /// Entries ascending by replica (see the type's invariants).
    var entries: [Entry]

    /// The empty set: no versions, empty clock.
    public init() {
        entries = []
    }

    /// A set from entries the caller has already validated (decoder, tests).
    init(validatedEntries: [Entry]) {
        entries = validatedEntries
    }

    /// The causal context to hand to a reader: the write it sends back supersedes what it read.
    public var context: VersionVector {
        var vector = VersionVector()
        for entry in entries {
            vector.raise(entry.replica, to: entry.counter)
        }
        return vector
    }

    /// Number of live siblings.
    public var siblingCount: Int {
        entries.reduce(0) { $0 + $1.values.count }
    }

    /// Number of clock entries (replica ids).
    public var clockEntryCount: Int { entries.count }

    /// The live versions, ascending by dot.
    public var versions: [Version] {
        var result: [Version] = []
        for entry in entries {
            for (index, sibling) in entry.values.enumerated().reversed() {
                result.append(Version(dot: Dot(replica: entry.replica, counter: entry.counter - UInt64(index)),
                                      sibling: sibling))
            }
        }
        return result
    }

    /// True if there is no live version, or every live version is a deletion: the key reads as absent.
    public var readsAsDeleted: Bool {
        entries.allSatisfy { $0.values.allSatisfy(\.isDeletion) }
    }

    /// Stores `sibling` as a new event of `replica`, superseding exactly the versions `context`
    /// covers. A write with an old or empty context becomes a sibling of what it did not see.
    /// Then applies the write limits (see `enforceWriteLimits`): the oldest siblings past the cap
    /// are dropped and counted in the outcome.
    ///
    /// - Parameters:
    ///   - sibling: the new version.
    ///   - context: the causal context the client last read (`VersionVector()` if none). It must
    ///     name only events this state has seen: a context naming others (forged, or read from a
    ///     replica this one has not merged) would mark as dead versions this state has never
    ///     held, so it is refused.
    ///   - replica: the coordinating replica; must be this node's current replica id.
    ///   - issuedCounter: the highest counter `replica` has issued for this key, from its
    ///     durable local record of the key (0 if none). A state that has not seen it would issue
    ///     the same counter twice, so it is refused; merge the local record first.
    ///   - limits: the sibling cap, the write's byte budget, the clock cap and `counterMax`.
    /// - Throws: `SiblingWriteError`; the set is then unchanged.
    @discardableResult
    public mutating func write(_ sibling: Sibling, context: VersionVector, at replica: ReplicaID, issuedCounter: UInt64,
                               limits: VersioningLimits = .default) throws(SiblingWriteError) -> WriteOutcome {
        let held = self.context
        guard held.dominates(context) else { throw .contextNotCovered }
        let seen = held[replica]
        guard seen >= issuedCounter else { throw .missingOwnWrites(replica: replica, seen: seen, issued: issuedCounter) }
        guard seen < limits.counterMax else { throw .counterExhausted(replica) }
        if seen == 0, entries.count >= limits.clockEntriesMax { throw .tooManyReplicas(max: limits.clockEntriesMax) }
        let valueBytes = SiblingSet.encodedBytes(of: sibling)
        guard valueBytes <= limits.siblingBytesPerWriteMax else {
            throw .valueTooLarge(bytes: sibling.value.count, bytesMax: limits.siblingBytesPerWriteMax)
        }
        // Sync with the client's context as a clock without values (dvvset:update/3) ...
        var synced = SiblingSet(validatedEntries: context.entries.map {
            Entry(replica: $0.replica, counter: $0.counter, values: [])
        })
        synced.merge(self)
        // ... then add the new event on top of it (dvvset:event/3).
        let dot: Dot
        if let index = synced.entries.firstIndex(where: { $0.replica == replica }) {
            synced.entries[index].counter += 1
            synced.entries[index].values.insert(sibling, at: 0)
            dot = Dot(replica: replica, counter: synced.entries[index].counter)
        } else {
            let index = synced.entries.firstIndex(where: { $0.replica > replica }) ?? synced.entries.endIndex
            synced.entries.insert(Entry(replica: replica, counter: 1, values: [sibling]), at: index)
            dot = Dot(replica: replica, counter: 1)
        }
        let dropped = synced.enforceWriteLimits(limits, protecting: dot)
        self = synced
        return WriteOutcome(dot: dot, droppedSiblingCount: dropped)
    }

    /// Joins `other` into `self` (read repair, anti-entropy, replication): the pure lattice
    /// join, so commutative, associative and idempotent. It never drops a sibling: merges run
    /// where no client can be told, and a cap applied here would depend on merge order. Caps
    /// apply at the next write (`write` reports what it drops).
    public mutating func merge(_ other: SiblingSet) {
        var merged: [Entry] = []
        merged.reserveCapacity(entries.count + other.entries.count)
        var left = 0
        var right = 0
        while left < entries.count || right < other.entries.count {
            if right == other.entries.count
                || (left < entries.count && entries[left].replica < other.entries[right].replica) {
                merged.append(entries[left])
                left += 1
            } else if left == entries.count || other.entries[right].replica < entries[left].replica {
                merged.append(other.entries[right])
                right += 1
            } else {
                merged.append(entries[left].merged(with: other.entries[right]))
                left += 1
                right += 1
            }
        }
        entries = merged
    }

    /// The join of two sets, as a new set.
    public func merging(_ other: SiblingSet) -> SiblingSet {
        var result = self
        result.merge(other)
        return result
    }

    /// Compares the two states in their lattice order: `before` means `other` has seen every
    /// event `self` has and knows every version `self` knows to be dead.
    public func compare(_ other: SiblingSet) -> CausalOrder {
        let lhs = Dictionary(uniqueKeysWithValues: entries.map { ($0.replica, $0) })
        let rhs = Dictionary(uniqueKeysWithValues: other.entries.map { ($0.replica, $0) })
        var lhsAhead = false
        var rhsAhead = false
        for replica in Set(lhs.keys).union(rhs.keys) {
            let left = lhs[replica].map { ($0.counter, $0.deadPrefix) } ?? (0, 0)
            let right = rhs[replica].map { ($0.counter, $0.deadPrefix) } ?? (0, 0)
            if left.0 > right.0 || left.1 > right.1 { lhsAhead = true }
            if right.0 > left.0 || right.1 > left.1 { rhsAhead = true }
        }
        switch (lhsAhead, rhsAhead) {
        case (false, false): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (true, true): return .concurrent
        }
    }
}
