import CartStorage
import CartTestSupport
import Testing
@testable import CartCluster

/// The ring: token vectors (from an independent MurmurHash64A written from the algorithm, in
/// Python), balance, preference lists, what joins and leaves move, and the stored-key layout.
@Suite struct RingTests {
    func nodes(_ count: Int, from first: UInt64 = 1) -> [NodeID] {
        (0..<UInt64(count)).map { NodeID(first + $0 * 7) }
    }

    // MARK: - Tokens

    /// data-format.md, "Ring tokens and stored keys": the same vectors.
    @Test func tokenVectors() {
        let vectors: [(String, UInt64, Int)] = [
            ("", 0x84D6_9DCE_F1E6_733A, 531),
            ("a", 0xB2B2_9803_FC38_45C1, 714),
            ("cart:42", 0x8ABB_06D7_CED8_7D2C, 554),
            ("cart:1001", 0x0AB6_0549_576E_082A, 42),
            ("0123456789abcdef", 0xF1BA_97B4_B37A_DCFA, 966),
            ("cart:caf\u{E9}", 0x3012_F09C_15EA_AB40, 192),
            ("cart:\u{FC}\u{20AC}\u{1F600}\u{DF}", 0xB1EB_5851_69BF_C7FF, 711),
        ]
        let ring = try? Ring(nodes: nodes(3), partitionBits: 10)
        for (key, token, partition) in vectors {
            #expect(RingToken.of(Array(key.utf8)) == token, "\(key)")
            #expect(RingToken.of(Array(key.utf8)[...]) == token, "\(key) as a slice")
            #expect(ring?.partition(of: token) == partition, "\(key)")
            #expect(ring?.partition(ofKey: Array(key.utf8)) == partition, "\(key)")
        }
        // Bytes ≥ 0x80 in whole 8-byte words (a signed-byte bug shows here).
        let high: [UInt8] = Array(repeating: 0xFF, count: 8) + Array(repeating: 0x80, count: 8)
        #expect(RingToken.of(high) == 0x6217_C71A_752D_4FB1)
        // data-format.md's stored-key example.
        #expect(StorageKey.encode(Array("cart:42".utf8))
                    == [0x00, 0x8A, 0xBB, 0x06, 0xD7, 0xCE, 0xD8, 0x7D, 0x2C] + Array("cart:42".utf8))
        // The engine's bloom hash is the same function with its own seed.
        #expect(Hash64.hash(Array("k0".utf8)[...]) == 0xD65C_D2E0_8F0E_2084)
    }

    // MARK: - Balance

    @Test func everyNodeOwnsItsShareToOnePartition() throws {
        for count in [1, 2, 3, 4, 5, 7, 8, 13, 50, 100, 333] {
            let ring = try Ring(nodes: nodes(count), partitionBits: 10)
            #expect(ring.checkInvariants() == nil, "\(count) nodes: \(ring.checkInvariants() ?? "")")
            let shares = ring.nodes.map { ring.partitions(ownedBy: $0).count }
            #expect(shares.reduce(0, +) == 1_024)
            #expect((shares.max() ?? 0) - (shares.min() ?? 0) <= 1, "\(count) nodes: \(shares.min() ?? 0)…\(shares.max() ?? 0)")
        }
    }

    /// The membership issue's scale target: max/mean load ≤ 1.10 at 1,000 nodes (2^14 partitions).
    @Test func aThousandNodesStayWithinTenPercent() throws {
        let ring = try Ring(nodes: nodes(1_000), partitionBits: 14)
        let shares = ring.nodes.map { ring.partitions(ownedBy: $0).count }
        let mean = Double(ring.partitionCount) / 1_000
        let ratio = Double(shares.max() ?? 0) / mean
        print("ring: 1,000 nodes, 16,384 partitions: max/mean \(ratio), spacing violations \(ring.spacingViolations)")
        #expect(ratio <= 1.10)
        #expect(ring.checkInvariants() == nil)
    }

    @Test func theRingDependsOnlyOnTheNodeSet() throws {
        let list = nodes(9)
        let a = try Ring(nodes: list, partitionBits: 8)
        let b = try Ring(nodes: list.reversed(), partitionBits: 8)
        var rng = SeededRandom(seed: TestSeed.make("theRingDependsOnlyOnTheNodeSet"))
        var shuffled = list
        for index in shuffled.indices.reversed() { shuffled.swapAt(index, rng.below(index + 1)) }
        let c = try Ring(nodes: shuffled, partitionBits: 8)
        #expect(a == b && b == c)
    }

    // MARK: - Preference lists

    @Test func preferenceListsAreTheFirstNDistinctNodesClockwise() throws {
        for count in [1, 2, 3, 5, 12] {
            let ring = try Ring(nodes: nodes(count), partitionBits: 8)
            for partition in 0..<ring.partitionCount {
                let list = ring.preferenceList(forPartition: partition, n: 3)
                #expect(list.count == min(3, count))
                #expect(Set(list).count == list.count)
                #expect(list.first == ring.owners[partition])
                // Clockwise order: each next node is the owner of the first later partition
                // not owned by an earlier one.
                var expected: [NodeID] = []
                var index = partition
                while expected.count < min(3, count) {
                    if !expected.contains(ring.owners[index]) { expected.append(ring.owners[index]) }
                    index = (index + 1) % ring.partitionCount
                }
                #expect(list == expected)
            }
        }
        let ring = try Ring(nodes: nodes(5), partitionBits: 8)
        #expect(ring.preferenceList(forKey: Array("cart:42".utf8), n: 3)
                    == ring.preferenceList(forPartition: ring.partition(ofKey: Array("cart:42".utf8)), n: 3))
    }

    /// A ring built from more than `targetN` nodes has no two partitions within `targetN` places
    /// with one owner, so every preference list is the owners of the next N partitions.
    @Test func claimSpacesPartitionsForTargetN() throws {
        for (count, bits) in [(3, 6), (3, 8), (4, 4), (4, 8), (5, 8), (7, 10), (8, 10), (10, 10), (50, 12), (200, 14), (1_000, 14)] {
            let ring = try Ring(nodes: nodes(count), partitionBits: bits, targetN: 3)
            print("ring: \(count) nodes, 2^\(bits) partitions: \(ring.spacingViolations) spacing violations")
            // With exactly targetN nodes and a partition count they do not divide, one wrap
            // violation cannot be avoided (only a period-N sequence has none).
            #expect(ring.spacingViolations <= (count == 3 ? 1 : 0), "\(count) nodes, 2^\(bits) partitions")
        }
    }

    // MARK: - Joins and leaves

    /// The membership issue's target: one join moves at most 1.2/n of the keys; here exactly
    /// ⌊Q/n⌋ partitions, all to the new node.
    @Test func aJoinMovesOnlyTheNewNodesShare() throws {
        var ring = try Ring(nodes: nodes(1), partitionBits: 12)
        for count in 2...40 {
            let newcomer = NodeID(10_000 + UInt64(count))
            let next = try ring.joining(newcomer)
            let moved = ring.owners.indices.filter { ring.owners[$0] != next.owners[$0] }
            #expect(moved.allSatisfy { next.owners[$0] == newcomer })
            #expect(moved.count == ring.partitionCount / count)
            #expect(Double(moved.count) / Double(ring.partitionCount) <= 1.2 / Double(count))
            #expect(next.checkInvariants() == nil)
            ring = next
        }
        print("ring: 40 nodes by joins, 2^12 partitions: \(ring.spacingViolations) spacing violations, "
              + "built from the set: \(try Ring(nodes: ring.nodes, partitionBits: 12).spacingViolations)")
        // Preference lists stay N distinct nodes whatever the spacing.
        for partition in 0..<ring.partitionCount { #expect(Set(ring.preferenceList(forPartition: partition, n: 3)).count == 3) }
    }

    @Test func aLeaveMovesOnlyTheLeaversPartitions() throws {
        var ring = try Ring(nodes: nodes(30), partitionBits: 12)
        var rng = SeededRandom(seed: TestSeed.make("aLeaveMovesOnlyTheLeaversPartitions"))
        while ring.nodes.count > 1 {
            let leaver = ring.nodes[rng.below(ring.nodes.count)]
            let next = try ring.leaving(leaver)
            for partition in ring.owners.indices {
                if ring.owners[partition] == leaver {
                    #expect(next.owners[partition] != leaver)
                } else {
                    #expect(next.owners[partition] == ring.owners[partition])
                }
            }
            #expect(next.checkInvariants() == nil, "\(next.checkInvariants() ?? "")")
            ring = next
        }
    }

    /// data-format.md's owner-list vector: any implementation of the deal and the swaps must
    /// produce exactly this.
    @Test func ownerListVector() throws {
        let ring = try Ring(nodes: (1...5).map { NodeID($0) }, partitionBits: 4)
        print("ring: owners of 5 nodes, 2^4 partitions: \(ring.owners.map(\.value))")
        #expect(ring.owners.map(\.value) == Self.ownerVector)
        #expect(ring.spacingViolations == 0)
    }

    static let ownerVector: [UInt64] = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 1, 5, 4]

    /// Fewer nodes than targetN: every list holds every node, nothing to spread (a 2-node
    /// cluster at 2^16 partitions took minutes when the swap search ran anyway).
    @Test func aSmallClusterOnABigRingBuildsAtOnce() throws {
        for count in 1...3 {
            let ring = try Ring(nodes: nodes(count), partitionBits: 16)
            #expect(ring.checkInvariants() == nil)
            #expect(ring.preferenceList(forPartition: 65_535, n: 3).count == count)
        }
        let ring = try Ring(nodes: nodes(3), partitionBits: 16)
        #expect(ring.contains(partition: 65_535) && !ring.contains(partition: 65_536) && !ring.contains(partition: -1))
    }

    @Test func badConfigurationsAreTypedErrors() throws {
        #expect(throws: RingError.invalidTargetN(17)) { try Ring(nodes: nodes(4), partitionBits: 4, targetN: 17) }
        #expect(throws: RingError.invalidTargetN(100_000_000)) { try Ring(nodes: nodes(4), partitionBits: 4, targetN: 100_000_000) }
        #expect(throws: RingError.noNodes) { try Ring(nodes: []) }
        #expect(throws: RingError.partitionBitsOutOfRange(3)) { try Ring(nodes: nodes(1), partitionBits: 3) }
        #expect(throws: RingError.partitionBitsOutOfRange(17)) { try Ring(nodes: nodes(1), partitionBits: 17) }
        #expect(throws: RingError.invalidTargetN(0)) { try Ring(nodes: nodes(1), targetN: 0) }
        #expect(throws: RingError.duplicateNode(NodeID(8))) { try Ring(nodes: [NodeID(8), NodeID(1), NodeID(8)]) }
        #expect(throws: RingError.tooManyNodes(nodes: 17, partitions: 16)) { try Ring(nodes: nodes(17), partitionBits: 4) }
        let ring = try Ring(nodes: nodes(2), partitionBits: 4)
        #expect(throws: RingError.alreadyMember(NodeID(1))) { try ring.joining(NodeID(1)) }
        #expect(throws: RingError.notMember(NodeID(2))) { try ring.leaving(NodeID(2)) }
        #expect(throws: RingError.lastNode(NodeID(1))) { try Ring(nodes: [NodeID(1)], partitionBits: 4).leaving(NodeID(1)) }
        let full = try Ring(nodes: nodes(16), partitionBits: 4)
        #expect(throws: RingError.tooManyNodes(nodes: 17, partitions: 16)) { try full.joining(NodeID(99_999)) }
    }

    // MARK: - Stored keys

    @Test func storedKeysSortByTokenAndEachPartitionIsOneRange() throws {
        let ring = try Ring(nodes: nodes(4), partitionBits: 6)
        var rng = SeededRandom(seed: TestSeed.make("storedKeysSortByTokenAndEachPartitionIsOneRange"))
        var stored: [[UInt8]] = []
        for index in 0..<2_000 {
            let key = Array("cart:\(rng.below(1_000_000))-\(index)".utf8)
            let encoded = StorageKey.encode(key)
            let decoded = try #require(StorageKey.decode(encoded[...]) as (token: UInt64, key: ArraySlice<UInt8>)?)
            #expect(Array(decoded.key) == key && decoded.token == RingToken.of(key))
            let range = StorageKey.range(ofPartition: ring.partition(ofKey: key), in: ring)
            #expect(range.from.lexicographicallyPrecedes(encoded) || range.from == encoded)
            #expect(encoded.lexicographicallyPrecedes(range.to))
            stored.append(encoded)
        }
        // Ranges tile the data namespace in partition order.
        var previousEnd: [UInt8] = [StorageKey.dataNamespace] + Array(repeating: 0, count: 8)
        for partition in 0..<ring.partitionCount {
            let range = StorageKey.range(ofPartition: partition, in: ring)
            #expect(range.from == previousEnd)
            previousEnd = range.to
        }
        #expect(previousEnd == [StorageKey.dataNamespace + 1])
        // Sorted stored keys are sorted by token: partitions are contiguous.
        let partitions = stored.sorted { $0.lexicographicallyPrecedes($1) }.map { ring.partition(of: StorageKey.decode($0[...])!.token) }
        #expect(partitions == partitions.sorted())
        #expect(StorageKey.decode([0x01, 0, 0, 0, 0, 0, 0, 0, 0][...]) == nil)
        #expect(StorageKey.decode([0x00, 1, 2][...]) == nil)
    }
}
