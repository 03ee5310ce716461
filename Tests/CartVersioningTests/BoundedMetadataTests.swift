import CartTestSupport
import Testing
@testable import CartVersioning

/// The cart's metadata is bounded by what is live, not by history: after 10,000 mixed
/// operations on one cart the encoded record stays under a bound computed from the number of
/// items, replicas and remembered operation ids, and every unit is still exact.
@Suite struct BoundedMetadataTests {
    /// Upper bound on a cart's encoded size, in bytes, for `items` stored items (visible, or
    /// removed since the last compaction) touched by `replicas` replicas, remembering
    /// `operations` ids:
    /// - header, replica table and context: 2 + replicas × (10 + 5 + 1 + 8);
    /// - per item: SKU (1 + skuBytes), seven counts, per replica one counter (index, six
    ///   varints, at most `checkpointsPerCounterMax` checkpoints of three varints, two
    ///   cancellations, and per sign up to `replicas + 1` eras — one per life it changed the item
    ///   in since its last reset — each tagged with up to `replicas + 1` incarnations), at most
    ///   one entry per replica in each of the four fields (a write supersedes what its replica
    ///   held, so only concurrent writers coexist), one incarnation per replica and two twin links;
    /// - the operation log: `operations` ids, each with up to `applicationsPerID` applications
    ///   (dot, timestamp, flags, SKU, change).
    /// Varints are counted at 10 bytes, their widest.
    static func boundBytes(items: Int, replicas: Int, skuBytes: Int, nameBytes: Int, metadataBytes: Int,
                           idBytes: Int, applicationsPerID: Int, operations: Int, limits: VersioningLimits = .default) -> Int {
        let varint = 10
        let dot = 2 * varint
        let header = 2 + replicas * (10 + 5 + 1 + 8) + 2
        let era = 1 + 1 + (replicas + 1) * dot + 2 * varint
        let counter = 1 + 6 * varint + 1 + limits.checkpointsPerCounterMax * 3 * varint + 1 + 2 * (1 + 2 * varint)
            + 1 + 2 * (replicas + 1) * era
        let fields = (dot + 3 * varint) + (dot + varint + 1 + nameBytes) + (dot + 2 * varint) + (dot + varint + 1 + metadataBytes)
        let twin = 4 * varint + 1 + 4 * varint
        let item = 1 + skuBytes + 7 + replicas * (counter + fields + dot) + 2 * twin
        let application = dot + varint + 1 + 1 + skuBytes + 3 * varint + 1
        let operation = 1 + idBytes + 1 + applicationsPerID * application
        return header + items * item + 1 + operations * operation
    }

    struct Run {
        var merged: CartState
        var largestBytes: Int
        var applied: Int
        var outcomes: [String] = []
    }

    /// 10,000 mixed operations (adds, increments, decrements, sets, detail updates, removes,
    /// clears, 5% retries here or at another replica) on one cart through 3 replicas with one
    /// random state exchange per step; every `syncEvery` steps anti-entropy reaches a stable
    /// point, where each replica compacts if `compact`.
    static func run(seed: UInt64, steps: Int = 10_000, syncEvery: Int = 250, compact: Bool,
                    limits: VersioningLimits = .default) throws -> Run {
        var rng = SeededRandom(seed: seed)
        let replicas = (0..<3).map { Generators.replica($0) }
        var states = [CartState](repeating: CartState(), count: 3)
        let skus = (0..<12).map { "sku-\($0)" }
        var largest = 0
        var applied = 0
        var outcomes: [String] = []
        var lastRequest: (operation: CartOperation, id: String)?
        for step in 0..<steps {
            let index = rng.below(3)
            let now = UInt64(1_700_000_000_000 + step * 2_000)  // one operation every 2 s
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
                                        observed: observed, limits: limits)
                applied += 1
                outcomes.append("ok \(request.operation)")
            } catch {
                // Decrements and detail updates of absent items are refused: part of the mix.
                outcomes.append("\(error) \(request.operation)")
            }
            let from = rng.below(3), to = rng.below(3)
            states[to].merge(states[from], limits: limits)
            if step % syncEvery == syncEvery - 1 {
                var all = CartState()
                for state in states { all.merge(state, limits: limits) }
                for replica in 0..<3 {
                    states[replica] = all
                    if compact { states[replica].compact(stable: all.context, nowMs: now, limits: limits) }
                }
            }
            if step % 50 == 0 {
                largest = max(largest, try states.map { try RecordCodec.encode(.cart($0)).count }.max() ?? 0)
            }
        }
        var merged = CartState()
        for state in states { merged.merge(state) }
        return Run(merged: merged, largestBytes: largest, applied: applied, outcomes: outcomes)
    }

    @Test func tenThousandMixedOperationsStayBoundedAndExact() throws {
        let name = "tenThousandMixedOperationsStayBoundedAndExact"
        let seed = TestSeed.make(name)
        let compacted = try Self.run(seed: seed, compact: true)
        let merged = compacted.merged
        let bytes = try RecordCodec.encode(.cart(merged)).count
        let bound = Self.boundBytes(items: 12, replicas: 3, skuBytes: 6, nameBytes: 11, metadataBytes: 1,
                                    idBytes: 7, applicationsPerID: 2, operations: 1_024)
        // The same history, shorter, with and without compaction: the same units; without it no
        // id is ever forgotten, so the log has no bound but the limit.
        var unbounded = VersioningLimits()
        unbounded.operationLogMax = .max
        let short = try Self.run(seed: seed, steps: 1_000, compact: true)
        let never = try Self.run(seed: seed, steps: 1_000, compact: false, limits: unbounded)
        var neverItems = never.merged
        neverItems.operations = OperationLog()
        let neverBytes = try RecordCodec.encode(.cart(never.merged)).count
        let neverWithoutLog = try RecordCodec.encode(.cart(neverItems)).count
        print("bounded-metadata: 10000 mixed operations (\(compacted.applied) applied, one every 2 s) on one cart, 3 replicas, "
              + "12 SKUs, anti-entropy and compaction every 250: final \(bytes) bytes, largest \(compacted.largestBytes); \(merged.view.items.count) "
              + "visible items, \(merged.storedItemCount) stored, \(merged.storedEntryCount) counters and entries, "
              + "\(merged.rememberedOperationCount) operation ids; bound \(bound) bytes. 1000 operations with anti-entropy but no compaction: "
              + "\(neverBytes) bytes, \(neverWithoutLog) without its \(never.merged.rememberedOperationCount) operation ids")
        #expect(compacted.largestBytes <= bound, "seed=\(seed); \(TestSeed.repro(seed, name))")
        #expect(neverWithoutLog <= Self.boundBytes(items: 12, replicas: 3, skuBytes: 6, nameBytes: 11, metadataBytes: 1,
                                                   idBytes: 7, applicationsPerID: 2, operations: 0),
                "items bounded by SKUs × replicas even without compaction: seed=\(seed)")
        let divergence = zip(short.outcomes, never.outcomes).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(divergence == nil, "compaction changes an outcome at step \(divergence?.offset ?? -1): \(divergence?.element.0 ?? "") vs \(divergence?.element.1 ?? ""): seed=\(seed)")
        #expect(short.merged.view.items == never.merged.view.items, "compaction changes no visible unit: seed=\(seed)")
        #expect(merged.context.dotCloud.isEmpty)
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
