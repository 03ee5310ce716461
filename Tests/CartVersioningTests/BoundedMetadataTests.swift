import CartTestSupport
import Testing
@testable import CartVersioning

/// The cart's metadata is bounded by what is live, not by history: after 10,000 mixed
/// operations on one cart the encoded record stays under a bound computed from the number of
/// items, replicas and remembered operation ids, and every unit is still exact.
@Suite struct BoundedMetadataTests {
    /// Upper bound on a cart's encoded size, in bytes, for `items` stored items (visible, or
    /// removed since the last compaction) touched by `replicas` replicas:
    /// - header, replica table and context: 2 + replicas × (10 + 5 + 1 + 8);
    /// - per item: SKU (1 + skuBytes), six counts, and per replica one counter (index, six
    ///   varints, at most `checkpointsPerCounterMax` checkpoints of three varints; no
    ///   cancellations without duplicates) and at most one entry in each of the four fields
    ///   (a write supersedes what its replica held, so only concurrent writers coexist);
    /// - the operation log: at most `operationLogMax` ids, each with its timestamp and a few
    ///   applications (dot, flags, SKU, change).
    /// Varints are counted at their widest for the values in play: 9 bytes for counters and
    /// totals would be generous, so 10 is used throughout.
    static func boundBytes(items: Int, replicas: Int, skuBytes: Int, nameBytes: Int, metadataBytes: Int,
                           idBytes: Int, applicationsPerID: Int, limits: VersioningLimits = .default) -> Int {
        let varint = 10
        let dot = 2 * varint
        let header = 2 + replicas * (10 + 5 + 1 + 8) + 2
        let counter = 1 + 6 * varint + 1 + limits.checkpointsPerCounterMax * 3 * varint + 1
        let fields = (dot + 3 * varint) + (dot + varint + 1 + nameBytes) + (dot + 2 * varint) + (dot + varint + 1 + metadataBytes)
        let item = 1 + skuBytes + 6 + replicas * (counter + fields)
        let application = dot + 1 + 1 + skuBytes + 3 * varint + 1
        let operation = 1 + idBytes + varint + 1 + applicationsPerID * application
        return header + items * item + 1 + limits.operationLogMax * operation
    }

    struct Run {
        var merged: CartState
        var largestBytes: Int
        var applied: Int
    }

    /// 10,000 mixed operations (adds, increments, decrements, sets, detail updates, removes,
    /// clears, 5% retries here or at another replica) on one cart through 3 replicas with one
    /// random state exchange per step; every `compactEvery` steps anti-entropy reaches a stable
    /// point and each replica compacts (nil: never).
    static func run(seed: UInt64, compactEvery: Int?) throws -> Run {
        var rng = SeededRandom(seed: seed)
        let replicas = (0..<3).map { Generators.replica($0) }
        var states = [CartState](repeating: CartState(), count: 3)
        let skus = (0..<12).map { "sku-\($0)" }
        var largest = 0
        var applied = 0
        var lastRequest: (operation: CartOperation, id: String)?
        for step in 0..<10_000 {
            let index = rng.below(3)
            let now = UInt64(1_700_000_000_000 + step * 100)
            let sku = rng.pick(skus)
            var request: (operation: CartOperation, id: String)
            if rng.chance(5), let last = lastRequest {
                request = last
            } else {
                let operation: CartOperation
                switch rng.below(10) {
                case 0..<3: operation = .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: CartItemDetails(name: "Item \(sku)", priceMinor: 999))
                case 3..<5: operation = .changeQuantity(sku: sku, delta: rng.chance(50) ? 1 : -1)
                case 5: operation = .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
                case 6: operation = .updateDetails(sku: sku, details: CartItemDetails(name: "Renamed \(step % 7)"))
                case 7, 8: operation = .remove(sku: sku)
                default: operation = rng.chance(20) ? .clear : .add(sku: sku, quantity: 1, details: CartItemDetails())
                }
                request = (operation, "op-\(step)")
                lastRequest = request
            }
            let observed: CausalContext? = rng.chance(30) ? states[index].context : nil
            do {
                try states[index].apply(request.operation, id: OperationID(request.id), at: replicas[index],
                                        issuedCounter: states[index].context.highestCounter(of: replicas[index]), nowMs: now,
                                        observed: observed)
                applied += 1
            } catch {
                // Decrements and detail updates of absent items are refused: part of the mix.
            }
            let from = rng.below(3), to = rng.below(3)
            states[to].merge(states[from])
            if let compactEvery, step % compactEvery == compactEvery - 1 {
                var all = CartState()
                for state in states { all.merge(state) }
                for replica in 0..<3 {
                    states[replica] = all
                    states[replica].compact(stable: all.context, nowMs: now)
                }
            }
            if step % 50 == 0 {
                largest = max(largest, try states.map { try RecordCodec.encode(.cart($0)).count }.max() ?? 0)
            }
        }
        var merged = CartState()
        for state in states { merged.merge(state) }
        return Run(merged: merged, largestBytes: largest, applied: applied)
    }

    @Test func tenThousandMixedOperationsStayBoundedAndExact() throws {
        let name = "tenThousandMixedOperationsStayBoundedAndExact"
        let seed = TestSeed.make(name)
        let compacted = try Self.run(seed: seed, compactEvery: 500)
        let never = try Self.run(seed: seed, compactEvery: nil)
        let merged = compacted.merged
        let bytes = try RecordCodec.encode(.cart(merged)).count
        let neverBytes = try RecordCodec.encode(.cart(never.merged)).count
        let bound = Self.boundBytes(items: 12, replicas: 3, skuBytes: 6, nameBytes: 11, metadataBytes: 1,
                                    idBytes: 7, applicationsPerID: 2)
        print("bounded-metadata: 10000 mixed operations (\(compacted.applied) applied) on one cart, 3 replicas, 12 SKUs: "
              + "compacting every 500: final \(bytes) bytes, largest \(compacted.largestBytes); never compacting: final \(neverBytes) bytes, "
              + "largest \(never.largestBytes); \(merged.view.items.count) visible items, \(merged.storedItemCount) stored, "
              + "\(merged.storedEntryCount) counters and entries, \(merged.rememberedOperationCount) operation ids; bound \(bound) bytes")
        #expect(compacted.largestBytes <= bound, "seed=\(seed); \(TestSeed.repro(seed, name))")
        #expect(never.largestBytes <= bound, "bounded by SKUs × replicas even without compaction: seed=\(seed)")
        #expect(merged.context.dotCloud.isEmpty)
        #expect(merged.view.items == never.merged.view.items, "compaction changes no visible unit: seed=\(seed)")
    }

    @Test func siblingSetStaysBoundedUnderBlindWrites() throws {
        // Blind writes (no context) would grow siblings forever without the cap.
        var set = SiblingSet()
        var dropped = 0
        for index in 0..<10_000 {
            dropped += try set.write(Sibling(value: [UInt8(truncatingIfNeeded: index)], timestampMs: UInt64(index)), context: VersionVector(),
                                     at: Generators.replica(index % 3)).droppedSiblingCount
        }
        let bytes = try RecordCodec.encode(.siblings(set))
        print("bounded-siblings: 10000 blind writes on 3 replicas: \(set.siblingCount) siblings, \(bytes.count) bytes, \(dropped) dropped and reported")
        #expect(set.siblingCount == VersioningLimits.default.siblingsPerKeyMax)
        #expect(dropped == 10_000 - VersioningLimits.default.siblingsPerKeyMax)
    }
}
