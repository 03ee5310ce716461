import CartTestSupport
import Testing
@testable import CartVersioning

/// Removals leave no tombstones: after 10,000 add/remove cycles the encoded cart is bounded
/// by live items × replicas, not by history.
@Suite struct BoundedMetadataTests {
    /// Upper bound on a cart's encoded size: header and replica table, a context entry per
    /// replica, and per live item its SKU plus, per replica, at most `quantityEntriesPerReplicaMax`
    /// contributions and one entry per register. Each entry is at most 2 varints of dot (≤ 2 + 8
    /// bytes) and its payload (≤ 3 varints of 10 bytes, or a timestamp and a short value).
    static func boundBytes(liveItems: Int, replicas: Int, skuBytes: Int, nameBytes: Int) -> Int {
        let perReplicaHeader = 10 + 5 + 1 + 8  // node, epoch, index, counter
        let contribution = 10 + 30
        let register = 10 + 10 + 1 + max(nameBytes, 10)
        let perReplicaPerItem = VersioningLimits.default.quantityEntriesPerReplicaMax * contribution + 3 * register
        return 2 + 2 * 3 + replicas * perReplicaHeader
            + liveItems * (1 + skuBytes + 4 * 2 + replicas * perReplicaPerItem)
    }

    @Test func tenThousandAddRemoveCyclesStayBounded() throws {
        let name = "tenThousandAddRemoveCyclesStayBounded"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        let replicas = (0..<3).map { Generators.replica($0) }
        var states = [CartState](repeating: CartState(), count: 3)
        let skus = (0..<8).map { "sku-\($0)" }
        var sizeAfter1000 = 0
        for cycle in 0..<10_000 {
            let adder = rng.below(3)
            let sku = rng.pick(skus)
            let now = UInt64(1_700_000_000_000 + cycle * 1_000)
            try states[adder].apply(.add(sku: sku, quantity: 1, details: CartItemDetails(name: "Item \(sku)", priceMinor: 999)),
                                    at: replicas[adder], nowMs: now)
            let remover = rng.below(3)
            let source = states[adder]
            if rng.chance(70) { states[remover].merge(source) }
            try states[remover].apply(.remove(sku: rng.pick(skus)), at: replicas[remover], nowMs: now + 1)
            let gossipTo = rng.below(3)
            let gossip = states[rng.below(3)]
            states[gossipTo].merge(gossip)
            if cycle == 999 { sizeAfter1000 = try Self.encodedSize(states) }
        }
        var merged = states[0]
        merged.merge(states[1])
        merged.merge(states[2])
        let bytes = try RecordCodec.encode(.cart(merged))
        let live = merged.storedItemCount
        let bound = Self.boundBytes(liveItems: live, replicas: 3, skuBytes: 5, nameBytes: 10)
        print("bounded-metadata: after 10000 add/remove cycles on 3 replicas: \(bytes.count) bytes, "
              + "\(live) live items, \(merged.storedEntryCount) entries, context \(merged.context.versionVector.count) replicas "
              + "+ \(merged.context.dotCloud.count) cloud dots; bound \(bound) bytes; after 1000 cycles \(sizeAfter1000) bytes")
        #expect(bytes.count <= bound, "seed=\(seed): \(bytes.count) > \(bound); \(TestSeed.repro(seed, name))")
        #expect(merged.context.dotCloud.isEmpty)
        // Not growing with history: the full-bound for 8 items is a fixed number independent of cycles.
        #expect(bytes.count <= Self.boundBytes(liveItems: skus.count, replicas: 3, skuBytes: 5, nameBytes: 10))
    }

    static func encodedSize(_ states: [CartState]) throws -> Int {
        var merged = CartState()
        for state in states { merged.merge(state) }
        return try RecordCodec.encode(.cart(merged)).count
    }

    @Test func siblingSetStaysBoundedUnderBlindWrites() throws {
        // Blind writes (no context) would grow siblings forever without the cap.
        var set = SiblingSet()
        for index in 0..<10_000 {
            set.write(Sibling(value: [UInt8(truncatingIfNeeded: index)], timestampMs: UInt64(index)), context: VersionVector(),
                      at: Generators.replica(index % 3))
        }
        let bytes = try RecordCodec.encode(.siblings(set))
        print("bounded-siblings: 10000 blind writes on 3 replicas: \(set.siblingCount) siblings, \(bytes.count) bytes")
        #expect(set.siblingCount == VersioningLimits.default.siblingsPerKeyMax)
    }
}
