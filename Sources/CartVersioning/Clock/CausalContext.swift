/// The set of events a cart state has seen: a version vector plus a "dot cloud" of events
/// beyond it that arrived out of order.
///
/// Invariants (kept by every mutating method, checked by the decoder): the cloud is compacted,
/// i.e. no cloud dot is already covered by the vector, and no cloud dot directly extends it
/// (`counter == vector[replica] + 1`; such a dot is folded into the vector). With full-state
/// merges every context is downward closed per replica, so the cloud stays empty; it exists so
/// that delta-state exchanges (which carry gaps) remain representable.
///
/// This is what replaces tombstones: a removed item leaves no record, only its dots inside
/// this context, which grows with the number of replicas, not with the number of removals.
///
/// Thread safety: a `Sendable` value type.
public struct CausalContext: Hashable, Sendable {
    /// The contiguous part: replica → events `1...n` seen.
    public private(set) var versionVector: VersionVector
    /// Events seen beyond the vector (never adjacent to it, never covered by it).
    public private(set) var dotCloud: Set<Dot>

    /// The empty context.
    public init() {
        versionVector = VersionVector()
        dotCloud = []
    }

    /// A context from a vector and extra dots; compacts immediately.
    public init(versionVector: VersionVector, dotCloud: Set<Dot> = []) {
        self.versionVector = versionVector
        self.dotCloud = dotCloud.filter { $0.counter >= 1 }
        compact()
    }

    /// True if no event has been seen.
    public var isEmpty: Bool { versionVector.isEmpty && dotCloud.isEmpty }

    /// True if the event `dot` has been seen.
    public func contains(_ dot: Dot) -> Bool {
        versionVector.contains(dot) || dotCloud.contains(dot)
    }

    /// Records that the event `dot` has been seen.
    public mutating func insert(_ dot: Dot) {
        guard dot.counter >= 1, !contains(dot) else { return }
        dotCloud.insert(dot)
        compact()
    }

    /// The highest counter of `replica` seen (vector or cloud), 0 if none.
    public func highestCounter(of replica: ReplicaID) -> UInt64 {
        var highest = versionVector[replica]
        for dot in dotCloud where dot.replica == replica {
            highest = max(highest, dot.counter)
        }
        return highest
    }

    /// Union of the seen events.
    public mutating func merge(_ other: CausalContext) {
        versionVector.merge(other.versionVector)
        dotCloud.formUnion(other.dotCloud)
        compact()
    }

    /// The events both have seen (the meet): per replica the lesser vector entry, and the
    /// cloud dots the other has seen too.
    public func intersection(_ other: CausalContext) -> CausalContext {
        var vector = VersionVector()
        for entry in versionVector.entries {
            let counter = min(entry.counter, other.versionVector[entry.replica])
            if counter > 0 { vector.raise(entry.replica, to: counter) }
        }
        let cloud = dotCloud.filter { other.contains($0) }.union(other.dotCloud.filter { contains($0) })
        return CausalContext(versionVector: vector, dotCloud: cloud)
    }

    /// True if every event `other` has seen, `self` has seen too.
    public func covers(_ other: CausalContext) -> Bool {
        // A compacted cloud never holds `vector[r] + 1`, so a longer run must be in the vector.
        other.versionVector.entries.allSatisfy { versionVector[$0.replica] >= $0.counter }
            && other.dotCloud.allSatisfy { contains($0) }
    }

    /// Replicas mentioned by the vector or the cloud, ascending.
    public var replicas: [ReplicaID] {
        Set(versionVector.replicas).union(dotCloud.map(\.replica)).sorted()
    }

    /// Forgets every event of `replica` (vector entry and cloud dots). Only for pruning.
    mutating func forget(_ replica: ReplicaID) {
        versionVector.removeEntry(replica)
        dotCloud = dotCloud.filter { $0.replica != replica }
    }

    /// Moves cloud dots that extend the vector into it and drops covered ones.
    private mutating func compact() {
        guard !dotCloud.isEmpty else { return }
        var remaining: Set<Dot> = []
        let byReplica = Dictionary(grouping: dotCloud, by: \.replica)
        for (replica, dots) in byReplica {
            var top = versionVector[replica]
            for dot in dots.sorted() {
                if dot.counter <= top {
                    continue
                } else if dot.counter == top + 1 {
                    top = dot.counter
                } else {
                    remaining.insert(dot)
                }
            }
            versionVector.raise(replica, to: top)
        }
        dotCloud = remaining.filter { $0.counter > versionVector[$0.replica] }
    }
}
