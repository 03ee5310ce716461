import CartTestSupport
import Foundation
import Testing
@testable import CartVersioning

/// Randomized replica histories checked against an exact oracle of units (`CartOracle`).
///
/// 3–5 replicas apply random operations (adds, increments, decrements, sets, detail updates,
/// removes, clears) from clients holding fresh or stale tokens, retry some of them under the same
/// operation id at the same or another replica, exchange states with delayed, duplicated and
/// reordered messages, and now and then reach a sync point where some replicas compact. After
/// every step the replica that changed must show exactly what the oracle derives from the events
/// it has seen: every quantity (no acknowledged unit lost, no removed unit back), every name,
/// price and metadata. At the end every replica holds the same state and the same bytes.
@Suite struct CartHistoryTests {
    struct Message {
        var deliverAt: Int
        var to: Int
        var state: CartState
        var seen: Set<Int>
    }

    /// What a client read from a replica: the token and the events behind it.
    struct Read {
        var context: CausalContext
        var seen: Set<Int>
    }

    struct Request {
        var operation: CartOperation
        var id: String
        var read: Read?
    }

    struct Replica {
        var id: ReplicaID
        var state = CartState()
        var seen: Set<Int> = []
        var reads: [Read] = [Read(context: CausalContext(), seen: [])]
    }

    struct Counts {
        var applied = 0, duplicates = 0, refused = 0, stale = 0, compactions = 0, retriesElsewhere = 0, floored = 0
    }

    static let skus = ["apple", "bread", "cheese", "caf\u{E9}", "cafe\u{301}"]

    /// Runs one history; returns a failure description or nil.
    static func runHistory(seed: UInt64, counts: inout Counts) -> String? {
        var rng = SeededRandom(seed: seed)
        var limits = VersioningLimits()
        // Few remembered positions in some histories, so that stale tokens are met.
        limits.checkpointsPerCounterMax = rng.chance(50) ? 1 + rng.below(3) : 8
        let replicaCount = 3 + rng.below(3)
        let steps = 60 + rng.below(90)
        let skus = Array(skus.shuffled(using: &rng).prefix(2 + rng.below(3)))
        var replicas = (0..<replicaCount).map { Replica(id: Generators.replica($0)) }
        var oracle = CartOracle()
        var inFlight: [Message] = []
        var recent: [Request] = []
        var log: [String] = []

        func check(_ index: Int, _ when: String) -> String? {
            let replica = replicas[index]
            for sku in skus {
                let want = oracle.item(sku.precomposedNFC, seen: replica.seen)
                let got = replica.state.item(sku)
                let shown = want.visible ? want.quantity : 0
                if (got?.quantity ?? 0) != shown {
                    var dump = ""
                    if ProcessInfo.processInfo.environment["CARTSTORE_HISTORY_LOG"] == "all" {
                        dump = "\nstate: \(String(describing: replica.state.items[UTF8Text(sku.precomposedNFC)]))\ncontext: \(replica.state.context)\nevents:\n"
                        for event in oracle.events.values.sorted(by: { $0.id < $1.id }) where event.sku == sku.precomposedNFC || event.sku == nil {
                            dump += "  #\(event.id) \(event.operationID) \(event.dot) delta=\(String(describing: event.delta)) set=\(String(describing: event.setQuantity)) seen=\(replica.seen.contains(event.id)) resets=\(event.resets.map { "\($0.sku ?? "*") q=\($0.quantityOnly) obs=\($0.observed.sorted())" })\n"
                        }
                    }
                    return "\(when): replica \(index) \(sku) quantity \(got?.quantity ?? 0), oracle \(want)" + dump
                }
                guard want.visible, let got else { continue }
                if got.name != (want.name ?? "") || got.priceMinor != (want.priceMinor ?? 0) || got.metadata != (want.metadata ?? [:]) {
                    return "\(when): replica \(index) \(sku) details \(got), oracle \(want)"
                }
            }
            return nil
        }

        func deliver(_ message: Message) -> String? {
            replicas[message.to].state.merge(message.state, limits: limits)
            replicas[message.to].seen.formUnion(message.seen)
            replicas[message.to].reads.append(Read(context: replicas[message.to].state.context, seen: replicas[message.to].seen))
            return check(message.to, "merge into \(message.to)")
        }

        func failure(_ text: String) -> String {
            let full = ProcessInfo.processInfo.environment["CARTSTORE_HISTORY_LOG"] == "all"
            return text + "\n" + log.suffix(full ? log.count : 16).joined(separator: "\n")
        }

        func syncAndCompact(_ step: Int) -> String? {
            for index in 1..<replicaCount {
                if let f = deliver(Message(deliverAt: 0, to: 0, state: replicas[index].state, seen: replicas[index].seen)) { return f }
            }
            for index in 1..<replicaCount {
                if let f = deliver(Message(deliverAt: 0, to: index, state: replicas[0].state, seen: replicas[0].seen)) { return f }
            }
            let stable = replicas[0].state.context
            var compacted: [Int] = []
            for index in 0..<replicaCount where rng.chance(70) {
                replicas[index].state.compact(stable: stable, nowMs: UInt64(1_000 + step * 10), limits: limits)
                compacted.append(index)
                if let f = check(index, "after compaction of \(index)") { return f }
            }
            counts.compactions += 1
            log.append("step \(step): sync, compact \(compacted)")
            return nil
        }

        for step in 0..<steps {
            let due = inFlight.indices.filter { inFlight[$0].deliverAt <= step }.shuffled(using: &rng)
            for index in due {
                if let f = deliver(inFlight[index]) { return failure(f) }
            }
            inFlight = inFlight.enumerated().filter { !due.contains($0.offset) }.map(\.element)

            let index = rng.below(replicaCount)
            let roll = rng.below(100)
            if roll < 35 {
                // Send this replica's state somewhere, maybe twice, with a random delay.
                let to = rng.below(replicaCount)
                let copies = rng.chance(15) ? 2 : 1
                for _ in 0..<copies {
                    inFlight.append(Message(deliverAt: step + rng.below(8), to: to, state: replicas[index].state,
                                            seen: replicas[index].seen))
                }
                log.append("step \(step): send \(index) -> \(to) x\(copies)")
                continue
            }
            if roll < 38 {
                if let f = syncAndCompact(step) { return failure(f) }
                continue
            }
            var request: Request
            if rng.chance(15), let retry = recent.last {
                request = retry  // a client retry: same id, same token
            } else {
                let read = rng.chance(40) ? rng.pick(replicas[index].reads.suffix(6)) : nil
                request = Request(operation: randomOperation(&rng, sku: rng.pick(skus)), id: "op-\(step)", read: read)
                recent.append(request)
                if recent.count > 4 { recent.removeFirst() }
            }
            let nowMs = UInt64(1_000 + step * 10) - UInt64(rng.below(25))
            log.append("step \(step): replica \(index) \(request.operation) id=\(request.id) read=\(request.read == nil ? "none" : "\(request.read!.seen.count) events") now=\(nowMs)")
            if let f = applyBoth(request, at: index, nowMs: nowMs, skus: skus, replicas: &replicas, oracle: &oracle, limits: limits,
                                 counts: &counts) {
                return failure("step \(step): \(f)")
            }
            replicas[index].reads.append(Read(context: replicas[index].state.context, seen: replicas[index].seen))
            if replicas[index].reads.count > 10 { replicas[index].reads.removeFirst() }
            if let f = check(index, "after op at step \(step)") { return failure(f) }
        }
        // Liveness phase: deliver everything (reordered), then full anti-entropy.
        for message in inFlight.shuffled(using: &rng) {
            if let f = deliver(message) { return failure("drain: " + f) }
        }
        if let f = syncAndCompact(steps) { return failure("final sync: " + f) }
        for sku in Set(skus.map(\.precomposedNFC)) { counts.floored += oracle.flooredLives(sku, seen: replicas[0].seen) }
        var reference = replicas[0].state
        reference.compact(stable: reference.context, nowMs: UInt64(1_000 + steps * 10), limits: limits)
        for index in 1..<replicaCount {
            var state = replicas[index].state
            state.compact(stable: state.context, nowMs: UInt64(1_000 + steps * 10), limits: limits)
            if state != reference {
                var detail = ""
                if ProcessInfo.processInfo.environment["CARTSTORE_HISTORY_LOG"] == "all" {
                    for sku in Set(state.items.keys).union(reference.items.keys) where state.items[sku] != reference.items[sku] {
                        guard let x = state.items[sku], let y = reference.items[sku] else { detail += "\n\(sku): presence"; continue }
                        if x.counters != y.counters { detail += "\n\(sku): counters \(x.counters) vs \(y.counters)" }
                        if x.sets != y.sets { detail += "\n\(sku): sets \(x.sets) vs \(y.sets)" }
                        if x.name != y.name { detail += "\n\(sku): name \(x.name) vs \(y.name)" }
                        if x.price != y.price { detail += "\n\(sku): price \(x.price) vs \(y.price)" }
                        if x.metadata != y.metadata { detail += "\n\(sku): metadata \(x.metadata) vs \(y.metadata)" }
                        if x.incarnations != y.incarnations { detail += "\n\(sku): incarnations \(x.incarnations) vs \(y.incarnations)" }
                        if x.twins != y.twins { detail += "\n\(sku): twins \(x.twins) vs \(y.twins)" }
                    }
                    if state.operations != reference.operations { detail += "\nlogs differ" }
                    var settledReference = reference
                    settledReference.settle()
                    var uncompacted = replicas[0].state
                    let wasSettled = { var copy = uncompacted; copy.settle(); return copy == uncompacted }()
                    uncompacted.compact(stable: uncompacted.context, nowMs: UInt64(1_000 + steps * 10), limits: limits)
                    detail += "\nreference settled: \(settledReference == reference); before compaction settled: \(wasSettled)"
                    for (id, apps) in replicas[0].state.operations.entries where apps.entries.count > 1 {
                        detail += "\n  dup \(id): \(apps.sortedEntries.map { "\($0.dot) \(String(describing: $0.payload.sku)) \(String(describing: $0.payload.change))" })"
                    }
                    var once = replicas[0].state
                    once.settle()
                    var twice = once
                    twice.settle()
                    for sku in once.items.keys where once.items[sku] != twice.items[sku] {
                        detail += "\n  second settle changes \(sku): twins \(once.items[sku]!.twins) -> \(twice.items[sku]?.twins ?? []); cancels \(once.items[sku]!.counters.mapValues(\.cancellations)) -> \(twice.items[sku]?.counters.mapValues(\.cancellations) ?? [:])"
                    }
                    if state.context != reference.context { detail += "\ncontexts differ" }
                }
                return failure("replicas did not converge: \(replicas[index].id) differs from \(replicas[0].id)" + detail)
            }
            let (lhs, rhs) = (try? RecordCodec.encode(.cart(state)), try? RecordCodec.encode(.cart(reference)))
            if lhs == nil || lhs != rhs { return failure("equal states encode differently (or not at all)") }
        }
        return nil
    }

    static func randomOperation(_ rng: inout SeededRandom, sku: String) -> CartOperation {
        switch rng.below(16) {
        case 0..<5: return .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: Generators.details(&rng))
        case 5..<7: return .changeQuantity(sku: sku, delta: Int64(1 + rng.below(2)))
        case 7..<9: return .changeQuantity(sku: sku, delta: -Int64(1 + rng.below(2)))
        case 9: return .updateDetails(sku: sku, details: CartItemDetails(name: "u\(rng.below(50))", priceMinor: rng.chance(50) ? 7 : nil))
        case 10..<12: return .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
        case 12..<14: return .remove(sku: sku)
        default: return .clear
        }
    }

    /// Applies `request` at replica `index` and mirrors its intended effect in the oracle.
    static func applyBoth(_ request: Request, at index: Int, nowMs: UInt64, skus: [String], replicas: inout [Replica],
                          oracle: inout CartOracle, limits: VersioningLimits, counts: inout Counts) -> String? {
        let replica = replicas[index]
        let local = replica.seen
        // A token the coordinator has not seen (read elsewhere) is refused; so is an empty one
        // treated as none.
        let readCovered = request.read.map { replica.state.context.covers($0.context) } ?? true
        let seen = (request.read?.seen.isEmpty ?? true) ? local : request.read!.seen
        let operation = request.operation.normalizedNFC
        let sku = operation.sku
        let current = sku.map { oracle.item($0, seen: local) } ?? CartOracle.Item()
        let dot = Dot(replica: replica.id, counter: replica.state.context.highestCounter(of: replica.id) + 1)

        enum Expectation {
            case duplicate, refused
            case applied([CartOracle.Reset], delta: Int64?, set: Int64?, details: [CartOracle.Field: CartOracle.Value], begins: Bool)
        }
        let expectation: Expectation
        if oracle.hasApplied(request.id, in: local) {
            expectation = .duplicate
        } else if !readCovered {
            expectation = .refused
        } else {
            switch operation {
            case let .add(sku, quantity, details):
                let reset = current.visible ? [] : [CartOracle.Reset(sku: sku, observed: local, quantityOnly: false)]
                expectation = .applied(reset, delta: quantity, set: nil, details: given(details),
                                       begins: !current.visible || oracle.lifeAnIncrementJoins(sku: sku, local: local) == nil)
            case let .changeQuantity(sku, delta):
                if !current.visible {
                    expectation = .refused  // relative to what the coordinator shows: add it instead
                } else if delta < 0, current.quantity + delta <= 0 {
                    expectation = .applied([CartOracle.Reset(sku: sku, observed: local, quantityOnly: false)], delta: nil, set: nil, details: [:],
                                           begins: false)
                } else {
                    let reset = current.visible ? [] : [CartOracle.Reset(sku: sku, observed: local, quantityOnly: false)]
                    expectation = .applied(reset, delta: delta, set: nil, details: [:],
                                           begins: delta > 0 && oracle.lifeAnIncrementJoins(sku: sku, local: local) == nil)
                }
            case let .setQuantity(sku, quantity):
                if quantity == 0 {
                    expectation = .applied([CartOracle.Reset(sku: sku, observed: seen, quantityOnly: false)], delta: nil, set: nil, details: [:],
                                           begins: false)
                } else if current.visible {
                    expectation = .applied([CartOracle.Reset(sku: sku, observed: seen, quantityOnly: true)], delta: nil,
                                           set: quantity, details: [:], begins: true)
                } else {
                    expectation = .refused  // a set names no details: an item not shown must be added
                }
            case let .updateDetails(_, details):
                expectation = current.visible ? .applied([], delta: nil, set: nil, details: given(details), begins: false) : .refused
            case let .remove(sku):
                expectation = .applied([CartOracle.Reset(sku: sku, observed: seen, quantityOnly: false)], delta: nil, set: nil, details: [:],
                                       begins: false)
            case .clear:
                expectation = .applied([CartOracle.Reset(sku: nil, observed: seen, quantityOnly: false)], delta: nil, set: nil, details: [:],
                                       begins: false)
            }
        }

        let before = replicas[index].state
        let outcome: Result<CartState.ApplyOutcome, CartOperationError> = Result { () throws(CartOperationError) in
            try replicas[index].state.apply(request.operation, id: OperationID(request.id), at: replica.id,
                                            issuedCounter: before.context.highestCounter(of: replica.id), nowMs: nowMs,
                                            observed: request.read?.context, limits: limits)
        }
        switch (expectation, outcome) {
        case (.duplicate, .success(.duplicate)):
            counts.duplicates += 1
            return replicas[index].state == before ? nil : "a duplicate changed the state"
        case (.refused, .failure):
            counts.refused += 1
            return replicas[index].state == before ? nil : "a refused operation changed the state"
        case let (.applied(resets, delta, set, details, begins), .success(.applied(appliedDot))):
            guard appliedDot == dot else { return "applied under \(appliedDot), expected \(dot)" }
            // Increments, sets and detail updates re-assert the details in force (decrements do
            // not); an item not shown starts afresh (its reset removed them).
            var writes = ((delta ?? 0) > 0 || set != nil || !details.isEmpty) && current.visible && sku != nil
                ? oracle.detailWinners(sku!, seen: local) : [:]
            for (field, value) in details { writes[field] = (value, nowMs) }
            if oracle.events.values.contains(where: { $0.operationID == request.id }) { counts.retriesElsewhere += 1 }
            // A change's units go to the life it begins, or to the lives it sees.
            let allocation = delta != nil && sku != nil && !begins ? oracle.allocation(of: delta!, sku: sku!, local: local) : []
            let event = oracle.record(operationID: request.id, dot: dot, sku: sku, delta: delta, setQuantity: set, timestampMs: nowMs,
                                      resets: resets, details: writes, local: local, beginsIncarnation: begins, allocation: allocation)
            replicas[index].seen.insert(event)
            counts.applied += 1
            return nil
        case (.applied(let resets, _, _, _, _), .failure(.staleContext)):
            // Legitimate only if some replica changed the item at least `checkpointsPerCounterMax`
            // times since the client's read.
            guard let read = request.read, resets.contains(where: { $0.observed == seen }) else {
                return "staleContext without a client token"
            }
            let candidates = sku.map { [$0] } ?? skus.map(\.precomposedNFC)
            let unobserved = candidates.flatMap { sku in
                replica.state.context.replicas.map { oracle.unobservedChanges(by: $0, sku: sku, local: local, observed: read.seen) }
            }.max() ?? 0
            guard unobserved >= limits.checkpointsPerCounterMax else {
                return "staleContext with only \(unobserved) unobserved changes of one replica"
            }
            counts.stale += 1
            return replicas[index].state == before ? nil : "a refused operation changed the state"
        default:
            return "outcome \(outcome), oracle expected \(expectation)"
        }
    }

    static func given(_ details: CartItemDetails) -> [CartOracle.Field: CartOracle.Value] {
        var result: [CartOracle.Field: CartOracle.Value] = [:]
        if let name = details.name { result[.name] = .text(name) }
        if let price = details.priceMinor { result[.price] = .price(price) }
        if let metadata = details.metadata { result[.metadata] = .metadata(metadata) }
        return result
    }

    @Test func randomHistoriesMatchTheExactOracle() {
        let name = "randomHistoriesMatchTheExactOracle"
        let seed = TestSeed.make(name)
        var counts = Counts()
        for history in 0..<300 {
            let historySeed = seed &+ UInt64(history)
            if let failure = Self.runHistory(seed: historySeed, counts: &counts) {
                Issue.record("history \(history) (seed \(historySeed)): \(failure)\n\(TestSeed.repro(seed, name))")
                return
            }
        }
        print("cart-histories: 300 histories, \(counts.applied) operations applied, \(counts.duplicates) retries answered as duplicates, "
              + "\(counts.retriesElsewhere) retries applied again elsewhere, \(counts.refused) refused, \(counts.stale) stale tokens, "
              + "\(counts.compactions) sync points with compaction, \(counts.floored) lives floored at zero at the end")
        // The generator must reach every path it claims to test.
        #expect(counts.duplicates > 0 && counts.retriesElsewhere > 0 && counts.refused > 0 && counts.compactions > 0 && counts.stale > 0
                && counts.floored > 0)
    }
}

extension String {
    /// NFC, as the cart stores SKUs.
    var precomposedNFC: String { CartOperation.remove(sku: self).normalizedNFC.sku ?? self }
}
