/// A version vector: for each replica, how many of its events are known (events `1...n`).
///
/// Invariants: no replica maps to 0 (absent means 0), so two vectors that know the same events
/// are `==`. This is the causal context a client reads and sends back with its next write.
///
/// Thread safety: a `Sendable` value type.
public struct VersionVector: Hashable, Sendable {
    /// Replica → highest known counter; never holds a zero.
    private(set) var counters: [ReplicaID: UInt64]

    /// The empty vector (knows no events).
    public init() {
        counters = [:]
    }

    /// A vector from `replica → counter`; zero counters are dropped.
    public init(_ counters: [ReplicaID: UInt64]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// The highest known counter of `replica`, 0 if none.
    public subscript(replica: ReplicaID) -> UInt64 {
        counters[replica] ?? 0
    }

    /// Number of replicas with a non-zero counter.
    public var count: Int { counters.count }

    /// True if no event is known.
    public var isEmpty: Bool { counters.isEmpty }

    /// The replicas that have an entry, ascending.
    public var replicas: [ReplicaID] { counters.keys.sorted() }

    /// One dot per replica (its highest known event), ascending by replica.
    public var entries: [Dot] {
        counters.map { Dot(replica: $0.key, counter: $0.value) }.sorted()
    }

    /// True if the vector knows the event `dot`.
    public func contains(_ dot: Dot) -> Bool {
        dot.counter >= 1 && dot.counter <= self[dot.replica]
    }

    /// Raises `replica`'s counter to at least `counter`.
    public mutating func raise(_ replica: ReplicaID, to counter: UInt64) {
        guard counter > self[replica] else { return }
        counters[replica] = counter
    }

    /// Removes `replica`'s entry (forgets its events). Only for pruning; see `SiblingSet`.
    mutating func removeEntry(_ replica: ReplicaID) {
        counters[replica] = nil
    }

    /// Pointwise maximum: the least vector that knows everything either knows.
    public mutating func merge(_ other: VersionVector) {
        for (replica, counter) in other.counters {
            raise(replica, to: counter)
        }
    }

    /// Pointwise maximum, as a new vector.
    public func merging(_ other: VersionVector) -> VersionVector {
        var result = self
        result.merge(other)
        return result
    }

    /// True if `self` knows every event `other` knows.
    public func dominates(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value }
    }

    /// Compares two histories: a partial order (reflexive, antisymmetric, transitive).
    public func compare(_ other: VersionVector) -> CausalOrder {
        let selfCoversOther = dominates(other)
        let otherCoversSelf = other.dominates(self)
        switch (selfCoversOther, otherCoversSelf) {
        case (true, true): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (false, false): return .concurrent
        }
    }
}
