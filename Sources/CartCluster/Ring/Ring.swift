/// The consistent-hash ring: 2^`partitionBits` equal partitions of the 64-bit token space, each
/// owned by one node (Dynamo's strategy 3, Riak's ring). A key belongs to the partition its
/// token's top bits name; its preference list is the first N distinct nodes met walking the
/// partitions clockwise from there.
///
/// Why fixed partitions rather than tokens per node (Cassandra): placement is separate from
/// partitioning, so the partition is the unit of streaming, Merkle trees and hints; a node's
/// share is an integer number of equal partitions, so balance is exact to one partition
/// (max/mean ≤ (t+1)/t with t = ⌊Q/S⌋ partitions per node: 1.04 at 1,000 nodes and 2^14
/// partitions); and membership state is one owner per partition. The cost: the partition count
/// is fixed when the cluster is created (choose 2^`partitionBits` ≥ 16 × the most nodes you
/// expect), as in Riak.
///
/// Claim: a ring over a node set deals the partitions out in turn to the nodes in ascending id
/// order (partition i to node i mod S), so every node computes the same ring from the same set
/// and any `targetN` consecutive partitions have distinct owners, except where the deal wraps
/// round with fewer than `targetN` partitions left over; those few are then swapped with others
/// until no swap removes a violation (Riak's "tail violations"). A joining node takes
/// ⌊Q/(S+1)⌋ partitions, each from the node that owns the most at that moment (lowest id on a
/// tie), preferring partitions with no partition of its own within `targetN − 1` places on
/// either side (so that consecutive partitions have distinct owners and preference lists stay
/// short); nothing else moves, so a join moves about 1/(S+1) of the keys. A leaving node's
/// partitions go, one by one, to a node owning the fewest (among those, one that is well spaced
/// there, then the lowest id); nothing else moves.
///
/// Invariants (`checkInvariants`, asserted after every change): every partition is owned by a
/// member; every member owns at least one partition; any two members' partition counts differ
/// by at most one.
public struct Ring: Hashable, Sendable {
    /// Partition counts CartStore supports: 2^4 … 2^16.
    public static let partitionBitsRange = 4...16
    /// Replica counts the claim can space for: 1 … 16.
    public static let targetNRange = 1...16

    /// log2 of the number of partitions.
    public let partitionBits: Int
    /// The replica count the claim spaces partitions for (the largest N the cluster uses).
    public let targetN: Int
    /// The owner of each partition, by partition index.
    public private(set) var owners: [NodeID]
    /// The members, ascending.
    public private(set) var nodes: [NodeID]

    /// The ring over `nodes` (any order; the result depends only on the set).
    public init(nodes: [NodeID], partitionBits: Int = 10, targetN: Int = 3) throws(RingError) {
        guard Self.partitionBitsRange.contains(partitionBits) else { throw .partitionBitsOutOfRange(partitionBits) }
        guard Self.targetNRange.contains(targetN) else { throw .invalidTargetN(targetN) }
        let sorted = nodes.sorted()
        guard !sorted.isEmpty else { throw .noNodes }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous == next { throw .duplicateNode(next) }
        let partitions = 1 << partitionBits
        guard sorted.count <= partitions else { throw .tooManyNodes(nodes: sorted.count, partitions: partitions) }
        self.partitionBits = partitionBits
        self.targetN = targetN
        self.owners = (0..<partitions).map { sorted[$0 % sorted.count] }
        self.nodes = sorted
        // With no more nodes than targetN every preference list of targetN holds every node:
        // spacing cannot matter (and cannot be reached).
        if sorted.count > targetN { spreadOut() }
        assert(checkInvariants() == nil, checkInvariants() ?? "")
    }

    /// The number of partitions.
    public var partitionCount: Int { owners.count }

    /// The partition of `token`: its top `partitionBits` bits.
    public func partition(of token: UInt64) -> Int {
        Int(truncatingIfNeeded: token >> UInt64(64 - partitionBits))
    }

    /// The partition of a user key.
    public func partition(ofKey key: some Collection<UInt8>) -> Int {
        partition(of: RingToken.of(key))
    }

    /// True if `partition` names one of this ring's partitions: check it before passing a
    /// partition a peer or an operator named to the functions below, which trap otherwise.
    public func contains(partition: Int) -> Bool { owners.indices.contains(partition) }

    /// The tokens of `partition`, inclusive. Precondition: `contains(partition:)`.
    public func tokenRange(ofPartition partition: Int) -> ClosedRange<UInt64> {
        precondition(owners.indices.contains(partition), "partition \(partition) outside 0..<\(partitionCount)")
        let shift = UInt64(64 - partitionBits)
        let lower = UInt64(partition) << shift
        return lower...(lower | ((1 << shift) - 1))
    }

    /// The first `n` distinct nodes met walking clockwise from `partition` (its owner first);
    /// fewer if the ring has fewer nodes. Precondition: `contains(partition:)`, `n ≥ 1`.
    public func preferenceList(forPartition partition: Int, n: Int) -> [NodeID] {
        precondition(owners.indices.contains(partition) && n >= 1, "partition \(partition), n \(n)")
        let wanted = min(n, nodes.count)
        var list: [NodeID] = []
        list.reserveCapacity(wanted)
        var index = partition
        while list.count < wanted {
            let owner = owners[index]
            if !list.contains(owner) { list.append(owner) }
            index = index + 1 == owners.count ? 0 : index + 1
        }
        return list
    }

    /// The preference list of a user key.
    public func preferenceList(forKey key: some Collection<UInt8>, n: Int) -> [NodeID] {
        preferenceList(forPartition: partition(ofKey: key), n: n)
    }

    /// The partitions `node` owns, ascending.
    public func partitions(ownedBy node: NodeID) -> [Int] {
        owners.indices.filter { owners[$0] == node }
    }

    /// Partitions whose owner also owns one of the next `targetN − 1` partitions (wrapping):
    /// each one makes some preference lists reach further round the ring, so that some node
    /// holds more replicas than its share. For `targetN` = 3, 0 in every ring built from 4 or
    /// more nodes that the tests try (4…1,000 nodes, 2^4…2^14 partitions); larger `targetN` can
    /// leave one or two (the swap search stops at a local minimum); joins and leaves, which
    /// move nothing but the joiner's share or the leaver's partitions, can leave more (the
    /// membership issue decides when to rebalance).
    public var spacingViolations: Int {
        owners.indices.filter(violates).count
    }

    /// The ring after `node` joins (see the type's doc for the claim).
    public func joining(_ node: NodeID) throws(RingError) -> Ring {
        guard !nodes.contains(node) else { throw .alreadyMember(node) }
        guard nodes.count < owners.count else { throw .tooManyNodes(nodes: nodes.count + 1, partitions: owners.count) }
        var next = self
        next.claim(for: node)
        assert(next.checkInvariants() == nil, next.checkInvariants() ?? "")
        return next
    }

    /// The ring after `node` leaves: its partitions go to the others, nothing else moves.
    public func leaving(_ node: NodeID) throws(RingError) -> Ring {
        guard let position = nodes.firstIndex(of: node) else { throw .notMember(node) }
        guard nodes.count > 1 else { throw .lastNode(node) }
        var next = self
        next.nodes.remove(at: position)
        var counts = next.counts()
        for partition in owners.indices where owners[partition] == node {
            let fewest = next.nodes.map { counts[$0] ?? 0 }.min() ?? 0
            let candidates = next.nodes.filter { (counts[$0] ?? 0) == fewest }
            let taker = candidates.first { next.spacedWell(partition, for: $0) } ?? candidates[0]
            next.owners[partition] = taker
            counts[taker, default: 0] += 1
        }
        assert(next.checkInvariants() == nil, next.checkInvariants() ?? "")
        return next
    }

    /// A description of the first broken invariant, or nil.
    public func checkInvariants() -> String? {
        guard owners.count == 1 << partitionBits else { return "\(owners.count) owners for 2^\(partitionBits) partitions" }
        guard nodes == nodes.sorted(), Set(nodes).count == nodes.count else { return "nodes not ascending and distinct" }
        let counts = counts()
        if let stranger = counts.keys.first(where: { !nodes.contains($0) }) { return "partition owned by non-member \(stranger)" }
        if let idle = nodes.first(where: { counts[$0] == nil }) { return "member \(idle) owns no partition" }
        let values = counts.values
        if let low = values.min(), let high = values.max(), high - low > 1 {
            return "unbalanced: owners hold \(low)…\(high) partitions"
        }
        return nil
    }

    // MARK: - Claim

    private func counts() -> [NodeID: Int] {
        var counts: [NodeID: Int] = [:]
        for owner in owners { counts[owner, default: 0] += 1 }
        return counts
    }

    /// True if `node` owns none of the `targetN − 1` partitions on either side of `partition`.
    private func spacedWell(_ partition: Int, for node: NodeID) -> Bool {
        let count = owners.count
        for distance in 1..<max(1, min(targetN, count)) {
            if owners[(partition + distance) % count] == node || owners[(partition - distance + count) % count] == node {
                return false
            }
        }
        return true
    }

    /// True if the owner of `partition` also owns one of the next `targetN − 1` partitions.
    private func violates(_ partition: Int) -> Bool {
        let count = owners.count
        for distance in 1..<max(1, min(targetN, count)) {
            if owners[(partition + distance) % count] == owners[partition] { return true }
        }
        return false
    }

    /// Swaps owners of partition pairs (which keeps every node's count) while a swap lowers the
    /// number of spacing violations. Only for a fresh ring: it moves partitions.
    private mutating func spreadOut() {
        let count = owners.count
        func affected(_ partitions: [Int]) -> Set<Int> {
            var result: Set<Int> = []
            for partition in partitions {
                for back in 0..<max(1, targetN) { result.insert((partition - back % count + count) % count) }
            }
            return result
        }
        var improved = true
        while improved {
            improved = false
            for p in owners.indices where violates(p) {
                for q in owners.indices where owners[q] != owners[p] {
                    let window = affected([p, q])
                    let before = window.filter(violates).count
                    owners.swapAt(p, q)
                    if window.filter(violates).count < before {
                        improved = true
                        break
                    }
                    owners.swapAt(p, q)
                }
            }
        }
    }

    /// Adds `node` and moves ⌊Q/(S+1)⌋ partitions to it, each from the most loaded owner.
    private mutating func claim(for node: NodeID) {
        let share = owners.count / (nodes.count + 1)
        var counts = counts()
        nodes.insert(node, at: nodes.firstIndex { $0 > node } ?? nodes.endIndex)
        var cursor = 0
        for _ in 0..<share {
            // The donor: most partitions, then lowest id.
            guard let donor = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key else { break }
            let partition = pick(from: donor, for: node, startingAt: cursor)
            owners[partition] = node
            counts[donor, default: 0] -= 1
            counts[node, default: 0] += 1
            cursor = (partition + 1) % owners.count
        }
    }

    /// The next partition of `donor` from `start` (wrapping) that is well spaced for `node`, or
    /// failing that the next partition of `donor`.
    private func pick(from donor: NodeID, for node: NodeID, startingAt start: Int) -> Int {
        var fallback: Int?
        for offset in 0..<owners.count {
            let partition = (start + offset) % owners.count
            guard owners[partition] == donor else { continue }
            if spacedWell(partition, for: node) { return partition }
            if fallback == nil { fallback = partition }
        }
        // The donor owns at least one partition (it has the most, and there are more
        // partitions than nodes).
        guard let fallback else { preconditionFailure("donor \(donor) owns no partition") }
        return fallback
    }
}
