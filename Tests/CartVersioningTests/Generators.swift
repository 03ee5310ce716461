import CartTestSupport
@testable import CartVersioning

/// Random values and random (but valid) histories for the property tests.
enum Generators {
    /// Limits large enough that caps never interfere with the lattice laws.
    static let lawLimits: VersioningLimits = {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 10_000
        limits.clockEntriesMax = 10_000
        limits.quantityEntriesPerReplicaMax = 10_000
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
                states[index].write(sibling, context: VersionVector(), at: replica(index), limits: limits)
            case 2..<4:
                states[index].write(sibling, context: states[index].context, at: replica(index), limits: limits)
            case 4..<6:
                let read = rng.pick(pool)
                states[index].write(sibling, context: read.context, at: replica(index), limits: limits)
            case 6:
                states[index].writeLastWriteWins(sibling, at: replica(index), limits: limits)
            case 7..<9:
                let other = states[rng.below(replicas)]
                states[index].merge(other, limits: limits)
            default:
                states[index].merge(rng.pick(pool), limits: limits)
            }
            pool.append(states[index])
        }
        return pool
    }

    static let skus = ["apple", "bread", "cheese", "dates", "eggs"]

    /// A random operation (possibly one that will be refused).
    static func cartOperation(_ rng: inout SeededRandom, skus: [String] = skus) -> CartOperation {
        let sku = rng.pick(skus)
        switch rng.below(12) {
        case 0..<4:
            return .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: details(&rng))
        case 4..<6:
            return .changeQuantity(sku: sku, delta: Int64(rng.below(5) - 2 == 0 ? 1 : rng.below(5) - 2))
        case 6:
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
            metadata: rng.chance(20) ? ["color": rng.pick(["red", "blue"]), "size": "\(rng.below(5))"] : nil
        )
    }

    /// Cart states visited by a random history of operations and merges.
    static func cartPool(_ rng: inout SeededRandom, replicas: Int, steps: Int,
                         limits: VersioningLimits = lawLimits) -> [CartState] {
        var states = [CartState](repeating: CartState(), count: replicas)
        var pool: [CartState] = [CartState()]
        for step in 0..<steps {
            let index = rng.below(replicas)
            if rng.chance(60) {
                let observed: CausalContext? = rng.chance(30) ? rng.pick(pool.suffix(5)).context : nil
                let coveredObserved = observed.flatMap { states[index].context.covers($0) ? $0 : nil }
                let operation = cartOperation(&rng)
                let nowMs = UInt64(1_000 + step * 10 + rng.below(30))
                try? states[index].apply(operation, at: replica(index), nowMs: nowMs, observed: coveredObserved, limits: limits)
            } else if rng.chance(70) {
                let other = states[rng.below(replicas)]
                states[index].merge(other)
            } else {
                states[index].merge(rng.pick(pool))
            }
            pool.append(states[index])
        }
        return pool
    }
}
