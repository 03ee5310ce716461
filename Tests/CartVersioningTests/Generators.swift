import CartTestSupport
@testable import CartVersioning

/// Random values and random (but valid) histories for the property tests.
enum Generators {
    /// Limits large enough that write caps rarely drop siblings in the law tests.
    static let lawLimits: VersioningLimits = {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 10_000
        limits.clockEntriesMax = 10_000
        return limits
    }()

    static func replica(_ index: Int, epoch: UInt32 = 1) -> ReplicaID {
        ReplicaID(node: UInt64(index + 1), epoch: epoch)
    }

    /// A random version vector over `replicas` replicas with small counters (so that random
    /// pairs are often comparable).
    static func versionVector(_ rng: inout SeededRandom, replicas: Int = 4, counterMax: Int = 3) -> VersionVector {
        var counters: [ReplicaID: UInt64] = [:]
        for index in 0..<replicas where rng.chance(70) {
            counters[replica(index)] = UInt64(rng.below(counterMax + 1))
        }
        return VersionVector(counters)
    }

    /// States visited by a random history of writes and merges on `replicas` replicas: every
    /// state in the pool is one a real cluster could hold.
    static func siblingSetPool(_ rng: inout SeededRandom, replicas: Int, steps: Int,
                               limits: VersioningLimits = lawLimits) -> [SiblingSet] {
        var states = [SiblingSet](repeating: SiblingSet(), count: replicas)
        var pool: [SiblingSet] = [SiblingSet()]
        for step in 0..<steps {
            let index = rng.below(replicas)
            let sibling = Sibling(value: rng.bytes(rng.below(4)) + [UInt8(truncatingIfNeeded: step)],
                                  timestampMs: UInt64(1_000 + rng.below(50)))
            switch rng.below(10) {
            case 0..<2:
                _ = try? states[index].write(sibling, context: VersionVector(), at: replica(index), limits: limits)
            case 2..<4:
                _ = try? states[index].write(sibling, context: states[index].context, at: replica(index), limits: limits)
            case 4..<6:
                // A context read elsewhere: refused unless this replica has seen it.
                let read = rng.pick(pool)
                _ = try? states[index].write(sibling, context: read.context, at: replica(index), limits: limits)
            case 6:
                _ = try? states[index].writeLastWriteWins(sibling, at: replica(index), limits: limits)
            case 7..<9:
                let other = states[rng.below(replicas)]
                states[index].merge(other)
            default:
                states[index].merge(rng.pick(pool))
            }
            pool.append(states[index])
        }
        return pool
    }

    static let skus = ["apple", "bread", "cheese", "dates", "eggs"]

    /// SKUs that differ only in Unicode normalization ("café" in NFC and in NFD, "Å" as one
    /// scalar and as A + ring) or in case, plus one outside the BMP.
    static let unicodeSKUs = ["caf\u{E9}", "cafe\u{301}", "\u{C5}ngstr\u{F6}m", "A\u{30A}ngstro\u{308}m", "CAFÉ", "🛒-1"]

    /// A random operation (possibly one that will be refused).
    static func cartOperation(_ rng: inout SeededRandom, skus: [String] = skus) -> CartOperation {
        let sku = rng.pick(skus)
        switch rng.below(13) {
        case 0..<4:
            return .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: details(&rng))
        case 4..<6:
            return .changeQuantity(sku: sku, delta: Int64(rng.below(5) - 2 == 0 ? 1 : rng.below(5) - 2))
        case 6, 12:
            return .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
        case 7:
            return .updateDetails(sku: sku, details: CartItemDetails(name: "n\(rng.below(100))"))
        case 8..<11:
            return .remove(sku: sku)
        default:
            return .clear
        }
    }

    static func details(_ rng: inout SeededRandom) -> CartItemDetails {
        CartItemDetails(
            name: rng.chance(50) ? "name-\(rng.below(1000))" : nil,
            priceMinor: rng.chance(50) ? Int64(rng.below(10_000)) : nil,
            metadata: rng.chance(20) ? [rng.pick(["color", "colo\u{301}r", "col\u{F3}r"]): rng.pick(["red", "blue"]), "size": "\(rng.below(5))"] : nil
        )
    }

    /// Cart states visited by a random history of operations (some retried under the same id,
    /// at the same or another replica), merges, and compactions at points every replica has
    /// reached. `skus` defaults to a mix of plain and Unicode-equivalent SKUs.
    static func cartPool(_ rng: inout SeededRandom, replicas: Int, steps: Int, skus: [String] = skus + unicodeSKUs,
                         limits: VersioningLimits = lawLimits) -> [CartState] {
        var states = [CartState](repeating: CartState(), count: replicas)
        var pool: [CartState] = [CartState()]
        var recent: [(operation: CartOperation, id: String, observed: CausalContext?)] = []
        for step in 0..<steps {
            let index = rng.below(replicas)
            let roll = rng.below(100)
            if roll < 55 {
                var request: (operation: CartOperation, id: String, observed: CausalContext?)
                if rng.chance(15), let retry = recent.last {
                    request = retry  // a client retry: same id, same token
                } else {
                    let observed: CausalContext? = rng.chance(30) ? rng.pick(pool.suffix(5)).context : nil
                    request = (cartOperation(&rng, skus: skus), "op-\(step)", observed)
                    recent.append(request)
                }
                let covered = request.observed.flatMap { states[index].context.covers($0) ? $0 : nil }
                let nowMs = UInt64(1_000 + step * 10 + rng.below(30))
                let me = replica(index)
                _ = try? states[index].apply(request.operation, id: OperationID(request.id), at: me,
                                         issuedCounter: states[index].context.highestCounter(of: me), nowMs: nowMs,
                                         observed: covered, limits: limits)
            } else if roll < 85 {
                let other = states[rng.below(replicas)]
                states[index].merge(other, limits: limits)
            } else if roll < 95 {
                states[index].merge(rng.pick(pool), limits: limits)
            } else {
                // Full exchange, then compaction on some replicas: the merged context is stable.
                var all = CartState()
                for state in states { all.merge(state, limits: limits) }
                for replica in 0..<replicas {
                    states[replica] = all
                    if rng.chance(60) { states[replica].compact(stable: all.context, nowMs: UInt64(1_000 + step * 10), limits: limits) }
                }
            }
            pool.append(states[index])
        }
        return pool
    }
}
