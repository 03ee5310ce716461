import CartTestSupport
import Testing
@testable import CartVersioning

/// Randomized replica histories: 3–5 replicas apply random cart operations and exchange states
/// with delayed, duplicated and reordered merges. After every step the replica that changed is
/// compared with `CartOracle`; at the end every replica must hold the same cart, and:
/// (1) no add is lost unless a removal that observed it happened;
/// (2) a removed item never comes back unless re-added concurrently or later;
/// (3) concurrent increments all count.
@Suite struct CartHistoryTests {
    struct Message {
        var deliverAt: Int
        var to: Int
        var state: CartState
        var observed: Set<Int>
    }

    struct Replica {
        var id: ReplicaID
        var state = CartState()
        var observed: Set<Int> = []
        /// Recent (context, observed) pairs: what a client might have read.
        var reads: [(context: CausalContext, observed: Set<Int>)] = [(CausalContext(), [])]
    }

    /// Runs one history; returns a failure description or nil.
    /// `exact`: no folding (quantities checked exactly); otherwise production folding with
    /// increments only, where quantities may only over-count.
    static func runHistory(seed: UInt64, exact: Bool) -> String? {
        var rng = SeededRandom(seed: seed)
        var limits = VersioningLimits()
        if exact { limits.quantityEntriesPerReplicaMax = 10_000 }
        let replicaCount = 3 + rng.below(3)
        let steps = 60 + rng.below(60)
        let skus = Array(Generators.skus.prefix(2 + rng.below(3)))
        var replicas = (0..<replicaCount).map { Replica(id: Generators.replica($0)) }
        var oracle = CartOracle()
        var inFlight: [Message] = []
        var log: [String] = []

        func check(_ index: Int, _ when: String) -> String? {
            let replica = replicas[index]
            let expected = oracle.expected(replica.observed)
            let present = Set(replica.state.items.keys)
            if present != Set(expected.keys) {
                return "\(when): replica \(index) stores \(present.sorted()), oracle expects \(expected.keys.sorted())"
            }
            for (sku, want) in expected {
                let got = replica.state.items[sku]
                let shown = replica.state.item(sku)
                if want.name != (got?.name.lastWriterWinsEntry?.value ?? "")
                    || want.priceMinor != (got?.price.lastWriterWinsEntry?.value ?? 0) {
                    return "\(when): replica \(index) \(sku) details \(String(describing: shown)) vs oracle \(want)"
                }
                let total = got?.totalQuantity ?? 0
                if exact {
                    if total != want.quantity || (want.visible && (shown?.addedAtMs != want.addedAtMs
                                                                   || shown?.updatedAtMs != want.updatedAtMs)) {
                        return "\(when): replica \(index) \(sku) = \(String(describing: shown)) q=\(total) vs oracle \(want)"
                    }
                } else if total < want.quantity {
                    return "\(when): replica \(index) \(sku) quantity \(total) below oracle \(want.quantity)"
                }
            }
            return nil
        }

        func deliver(_ message: Message) -> String? {
            replicas[message.to].state.merge(message.state)
            replicas[message.to].observed.formUnion(message.observed)
            replicas[message.to].reads.append((replicas[message.to].state.context, replicas[message.to].observed))
            return check(message.to, "merge into \(message.to)")
        }

        for step in 0..<steps {
            let due = inFlight.indices.filter { inFlight[$0].deliverAt <= step }.shuffled(using: &rng)
            for index in due {
                if let failure = deliver(inFlight[index]) { return failure + "\n" + log.suffix(12).joined(separator: "\n") }
            }
            inFlight = inFlight.enumerated().filter { !due.contains($0.offset) }.map(\.element)

            let index = rng.below(replicaCount)
            if rng.chance(40) {
                // Send this replica's state somewhere, maybe twice, with a random delay.
                let to = rng.below(replicaCount)
                let copies = rng.chance(15) ? 2 : 1
                for _ in 0..<copies {
                    inFlight.append(Message(deliverAt: step + rng.below(8), to: to, state: replicas[index].state,
                                            observed: replicas[index].observed))
                }
                log.append("step \(step): send \(index) -> \(to) x\(copies)")
                continue
            }
            let sku = rng.pick(skus)
            let nowMs = UInt64(1_000 + step * 10) - UInt64(rng.below(25))
            let read = rng.chance(30) ? rng.pick(replicas[index].reads.suffix(4)) : nil
            let operation = randomOperation(&rng, sku: sku, exact: exact)
            log.append("step \(step): replica \(index) \(operation) observed=\(read == nil ? "all" : "read") now=\(nowMs)")
            let failure = applyBoth(operation, at: index, nowMs: nowMs, read: read, replicas: &replicas, oracle: &oracle,
                                    limits: limits)
            if let failure { return "step \(step): \(failure)\n" + log.suffix(12).joined(separator: "\n") }
            replicas[index].reads.append((replicas[index].state.context, replicas[index].observed))
            if replicas[index].reads.count > 8 { replicas[index].reads.removeFirst() }
            if let failure = check(index, "after op at step \(step)") {
                return failure + "\n" + log.suffix(12).joined(separator: "\n")
            }
        }
        // Liveness phase: deliver everything (reordered), then full anti-entropy.
        for message in inFlight.shuffled(using: &rng) {
            if let failure = deliver(message) { return "drain: " + failure }
        }
        for index in 1..<replicaCount {
            if let failure = deliver(Message(deliverAt: 0, to: 0, state: replicas[index].state, observed: replicas[index].observed)) {
                return "anti-entropy: " + failure
            }
        }
        for index in 1..<replicaCount {
            if let failure = deliver(Message(deliverAt: 0, to: index, state: replicas[0].state, observed: replicas[0].observed)) {
                return "anti-entropy: " + failure
            }
        }
        for replica in replicas where replica.state != replicas[0].state {
            return "replicas did not converge: \(replica.id) differs from \(replicas[0].id)"
        }
        return finalProperties(replicas[0], oracle: oracle, exact: exact)
    }

    /// The three user-facing properties, stated directly over the operation log.
    static func finalProperties(_ replica: Replica, oracle: CartOracle, exact: Bool) -> String? {
        let allOps = replica.observed
        let removals = oracle.removals.values
        func removedByObserver(_ write: CartOracle.Write) -> Bool {
            removals.contains { ($0.sku == nil || $0.sku == write.sku) && $0.observed.contains(write.id) }
        }
        let contributions = oracle.writes.values.filter { $0.delta != nil && allOps.contains($0.id) }
        for write in contributions where !removedByObserver(write) {
            guard replica.state.items[write.sku] != nil else {
                return "(1) add \(write.dot) of \(write.sku) was lost without a removal that observed it"
            }
        }
        for sku in Set(oracle.writes.values.map(\.sku)) {
            let writes = oracle.writes.values.filter { $0.sku == sku }
            if writes.filter({ $0.delta != nil }).allSatisfy(removedByObserver), replica.state.item(sku) != nil {
                return "(2) \(sku) came back although every add of it was removed"
            }
            let sum = writes.filter { $0.delta != nil && !removedByObserver($0) }.reduce(Int64(0)) { $0 + ($1.delta ?? 0) }
            let total = replica.state.items[sku]?.totalQuantity ?? 0
            if exact ? total != sum : total < sum {
                return "(3) \(sku) quantity \(total), live contributions sum to \(sum)"
            }
        }
        return nil
    }

    static func randomOperation(_ rng: inout SeededRandom, sku: String, exact: Bool) -> CartOperation {
        let roll = rng.below(exact ? 12 : 9)
        switch roll {
        case 0..<3: return .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: Generators.details(&rng))
        case 3..<5: return .changeQuantity(sku: sku, delta: Int64(1 + rng.below(2)))
        case 5: return .updateDetails(sku: sku, details: CartItemDetails(name: "u\(rng.below(50))", priceMinor: rng.chance(50) ? 7 : nil))
        case 6..<8: return .remove(sku: sku)
        case 8: return .clear
        case 9: return .changeQuantity(sku: sku, delta: -Int64(1 + rng.below(2)))
        default: return .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
        }
    }

    /// Applies `operation` to the replica and mirrors its intended effect in the oracle.
    static func applyBoth(_ operation: CartOperation, at index: Int, nowMs: UInt64,
                          read: (context: CausalContext, observed: Set<Int>)?, replicas: inout [Replica],
                          oracle: inout CartOracle, limits: VersioningLimits) -> String? {
        let replica = replicas[index]
        let local = replica.observed
        let seen = read?.observed ?? local
        let expected = oracle.expected(local)
        var expectError = false
        var newIDs: [Int] = []

        func contribution(_ sku: String, _ delta: Int64, _ details: CartItemDetails) {
            var observedNow = local
            if !(expected[sku]?.visible ?? false) {
                newIDs.append(oracle.recordRemoval(sku: sku, quantityOnly: true, observed: local))
                observedNow.insert(newIDs[newIDs.count - 1])
            }
            let addedAt = oracle.expected(observedNow)[sku]?.addedAtMs ?? nowMs
            newIDs.append(oracle.recordWrite(replica: replica.id, sku: sku, delta: delta, addedAtMs: addedAt,
                                             name: details.name, priceMinor: details.priceMinor, timestampMs: nowMs,
                                             local: observedNow))
        }

        switch operation {
        case let .add(sku, quantity, details):
            contribution(sku, quantity, details)
        case let .changeQuantity(sku, delta):
            let current = (expected[sku]?.visible ?? false) ? expected[sku]?.quantity ?? 0 : 0
            if current <= 0, delta < 0 {
                expectError = true
            } else if current > 0, current + delta <= 0 {
                newIDs.append(oracle.recordRemoval(sku: sku, quantityOnly: false, observed: seen))
            } else {
                contribution(sku, delta, CartItemDetails())
            }
        case let .setQuantity(sku, quantity):
            if quantity == 0 {
                newIDs.append(oracle.recordRemoval(sku: sku, quantityOnly: false, observed: seen))
            } else if let item = expected[sku], item.visible {
                var delta = quantity - oracle.quantity(of: sku, observed: local, restrictedTo: seen)
                if item.quantity + delta < 1 { delta = quantity - item.quantity }
                if delta != 0 { contribution(sku, delta, CartItemDetails()) }
            } else {
                contribution(sku, quantity, CartItemDetails())
            }
        case let .updateDetails(sku, details):
            if expected[sku]?.visible ?? false {
                newIDs.append(oracle.recordWrite(replica: replica.id, sku: sku, delta: nil, addedAtMs: 0, name: details.name,
                                                 priceMinor: details.priceMinor, timestampMs: nowMs, local: local))
            } else {
                expectError = true
            }
        case let .remove(sku):
            newIDs.append(oracle.recordRemoval(sku: sku, quantityOnly: false, observed: seen))
        case .clear:
            newIDs.append(oracle.recordRemoval(sku: nil, quantityOnly: false, observed: seen))
        }

        do {
            try replicas[index].state.apply(operation, at: replica.id, nowMs: nowMs, observed: read?.context, limits: limits)
            if expectError { return "operation succeeded, oracle expected a refusal" }
        } catch {
            if !expectError { return "operation refused (\(error)), oracle expected success" }
        }
        replicas[index].observed.formUnion(newIDs)
        return nil
    }

    @Test func exactHistoriesMatchTheOracle() {
        let name = "exactHistoriesMatchTheOracle"
        let seed = TestSeed.make(name)
        for history in 0..<200 {
            let historySeed = seed &+ UInt64(history)
            if let failure = Self.runHistory(seed: historySeed, exact: true) {
                Issue.record("history \(history) (seed \(historySeed)): \(failure)\n\(TestSeed.repro(seed, name))")
                return
            }
        }
    }

    @Test func foldingHistoriesKeepPresenceAndNeverUndercount() {
        let name = "foldingHistoriesKeepPresenceAndNeverUndercount"
        let seed = TestSeed.make(name)
        for history in 0..<200 {
            let historySeed = seed &+ UInt64(history)
            if let failure = Self.runHistory(seed: historySeed, exact: false) {
                Issue.record("history \(history) (seed \(historySeed)): \(failure)\n\(TestSeed.repro(seed, name))")
                return
            }
        }
    }
}
