import CartTestSupport
import Foundation
import Testing
@testable import CartVersioning

/// Regression tests from the third adversarial review of the cart (lives per incarnation,
/// increments joining one life, compaction only after a round with every replica, refusals on
/// hidden items), and the randomized probes that review used: compaction must change nothing a
/// replica shows, every state must be settled and read back from its bytes.
@Suite struct CartThirdReviewTests: ThreeDevices {
    // MARK: - 1. Increments and the lives they join

    /// The phone takes 9 of 10 while the laptop removes the item and adds 1 again (a new life);
    /// the tablet's +1, concurrent with the removal, survives it, but the phone's -9 (also
    /// concurrent with the removal) eats it: known limitation 1 (data-format.md), pinned here
    /// in both merge orders. The -9 cannot eat the re-add: 1. When the laptop, showing 2, taps
    /// +1, the tap joins the re-add's life (in force), never the ended one: 2. (The review found
    /// the tap tagged with both lives, linking them, so that the -9 ate the re-add and the tap.)
    @Test func anIncrementDoesNotReviveADecrementOfAnEndedLife() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 10, details: mug), at: r3, nowMs: 1)
        var phone = base, laptop = base, tablet = base
        try phone.apply(.changeQuantity(sku: "A", delta: -9), at: r1, nowMs: 2)
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 3)
        try laptop.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 4)
        try tablet.apply(.changeQuantity(sku: "A", delta: 1), at: r3, nowMs: 5)
        laptop.merge(tablet)
        #expect(q(laptop) == 2, "the surviving +1 and the re-add")
        let withoutTap = laptop.merging(phone)
        #expect(q(withoutTap) == 1, "the -9 cannot eat the re-add")
        #expect(q(tablet.merging(phone).merging(laptop)) == 1)
        try laptop.apply(.changeQuantity(sku: "A", delta: 1), at: r2, nowMs: 6)
        #expect(q(laptop) == 3)
        let withTap = laptop.merging(phone)
        #expect(q(withTap) >= q(withoutTap), "an increment must not lower the merged quantity (got \(q(withTap)))")
        #expect(q(withTap) == 2, "the re-add and the tap; the -9 belongs to the ended life")
    }

    /// No removal needed: the phone adds 3, the laptop concurrently adds 1 to its empty cart (two
    /// lives). The phone and the tablet each take 2 of the phone's 3 (their screens showed 3):
    /// the phone's life is overdrawn (-1, floored) and still in force. The laptop shows 1; its
    /// shopper taps +1 and sees 2: the tap joins the laptop's life, never the overdrawn one. (The
    /// review found it tagged with every life in force, linking the overdrawn one, so that the
    /// laptop still showed 1 right after the tap.)
    @Test func anIncrementNextToAnOverdrawnLifeShows() throws {
        var phone = CartState(), laptop = CartState()
        try phone.apply(.add(sku: "A", quantity: 3, details: mug), at: r1, nowMs: 1)
        try laptop.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 2)
        var tablet = phone
        try tablet.apply(.changeQuantity(sku: "A", delta: -2), at: r3, nowMs: 3)
        try phone.apply(.changeQuantity(sku: "A", delta: -2), at: r1, nowMs: 4)
        laptop.merge(phone)
        laptop.merge(tablet)
        #expect(q(laptop) == 1, "the phone's life is overdrawn, the laptop's add shows")
        try laptop.apply(.changeQuantity(sku: "A", delta: 1), at: r2, nowMs: 5)
        #expect(q(laptop) == 2, "the shopper tapped + on 1 and sees \(q(laptop))")
    }

    // MARK: - 2. Compaction after a round with every replica changes nothing visible

    /// The tablet's -1 and the laptop's removal are concurrent; the phone's +5 is concurrent with
    /// both. The phone and the tablet merge the laptop's state (removal + -1): the phone shows
    /// 2 - 2 removed + 5 - 1 = 4. Compacting at the laptop's context alone (the review's
    /// scenario, which breaks `compact`'s contract: the laptop never merged the phone) dropped
    /// the -1 for good. `compactAfterRound` merges every replica's current state first; the
    /// phone's +5 is then in the laptop's state but not in the tablet's, so nothing is stable
    /// and nothing visible changes.
    @Test func compactionAfterARoundKeepsADecrementAConcurrentIncrementCountsAgainst() throws {
        var tablet = CartState()
        try tablet.apply(.add(sku: "A", quantity: 2, details: mug), at: r3, nowMs: 1)
        var phone = tablet, laptop = tablet
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        try tablet.apply(.changeQuantity(sku: "A", delta: -1), at: r3, nowMs: 3)
        try phone.apply(.changeQuantity(sku: "A", delta: 5), at: r1, nowMs: 4)
        laptop.merge(tablet)
        #expect(q(laptop) == 0)
        phone.merge(laptop)
        tablet.merge(laptop)
        #expect(q(phone) == 4, "+5 and -1 in one life, the removed 2 gone")
        var compacted = laptop
        _ = compacted.compactAfterRound(with: [phone, laptop, tablet], nowMs: 10)
        #expect(q(compacted) == 4)
        #expect(q(compacted.merging(phone)) == 4 && q(phone.merging(compacted)) == 4)
        #expect(q(compacted.merging(tablet)) == 4)
        // Once everyone has merged everything, compaction may run; it still shows 4.
        let all = phone.merging(laptop).merging(tablet)
        var everywhere = [all, all, all]
        for k in 0..<3 { _ = everywhere[k].compactAfterRound(with: everywhere, nowMs: 600_000) }
        #expect(everywhere.allSatisfy { q($0) == 4 })
        #expect(q(everywhere[0].merging(phone).merging(tablet)) == 4)
    }

    /// The other direction: compaction must not make a later re-add show less. The phone's -1 is
    /// concurrent with the laptop's removal; the phone then taps +1 before it hears of the
    /// removal. The laptop compacts after a round with everyone and its shopper adds 3:
    /// the phone's +1, which the add has not seen, survives: 4, compacted or not.
    @Test func compactionAfterARoundDoesNotMakeALaterReAddShowLess() throws {
        var tablet = CartState()
        try tablet.apply(.add(sku: "A", quantity: 2, details: mug), at: r3, nowMs: 1)
        var phone = tablet, laptop = tablet
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 3)
        laptop.merge(phone)
        #expect(q(laptop) == 0)
        let phoneBeforeTap = phone
        try phone.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 4)
        tablet.merge(laptop)
        var compacted = laptop
        _ = compacted.compactAfterRound(with: [phoneBeforeTap, laptop, tablet], nowMs: 600_000)
        try laptop.apply(.add(sku: "A", quantity: 3, details: mug), at: r2, nowMs: 600_010)
        try compacted.apply(.add(sku: "A", quantity: 3, details: mug), at: r2, nowMs: 600_010)
        #expect(q(laptop.merging(phone)) == 4)
        #expect(q(compacted.merging(phone)) == q(laptop.merging(phone)),
                "compacted \(q(compacted.merging(phone))), uncompacted \(q(laptop.merging(phone)))")
    }

    /// The phone's +1 is concurrent with the laptop's removal; a copy of the phone's state from
    /// before it merged the removal is still on its way (a hint, a delayed anti-entropy
    /// message). The laptop compacts after a round with everyone's current state; the old copy
    /// then arrives: 1 either way (the removed 2 stay removed), and merges stay associative.
    @Test func compactionAfterARoundKeepsRemovedUnitsRemovedWhenAnOldStateArrives() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        try phone.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 3)
        let inFlight = phone
        phone.merge(laptop)
        #expect(q(phone) == 1)
        var compacted = laptop
        _ = compacted.compactAfterRound(with: [phone, laptop], nowMs: 600_000)
        #expect(q(compacted) == 1)
        #expect(q(laptop.merging(inFlight)) == 1)
        #expect(q(compacted.merging(inFlight)) == 1, "removed units came back: \(q(compacted.merging(inFlight)))")
        let left = inFlight.merging(compacted).merging(laptop)
        let right = inFlight.merging(compacted.merging(laptop))
        #expect(left == right, "associative: left shows \(q(left)), right \(q(right))")
    }

    // MARK: - 3. A shopper's view: details and timestamps

    /// A set on an item the coordinator holds as removed is refused (it names no details, so it
    /// would bring the item back blank); an increment there is refused for the same reason
    /// (the phone's stale screen shows the mug, the shopper taps +): `itemNotFound`, and the
    /// state is unchanged. An add, which names details, brings it back.
    @Test func anIncrementOnAnItemNotShownIsRefused() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        phone.merge(laptop)
        let before = phone
        for delta: Int64 in [1, -1] {
            let outcome: Result<CartState.ApplyOutcome, CartOperationError> = Result { () throws(CartOperationError) in
                try phone.apply(.changeQuantity(sku: "A", delta: delta), at: r1, nowMs: 3)
            }
            #expect(outcome == .failure(.itemNotFound(sku: "A")), "delta \(delta): \(outcome)")
            #expect(phone == before)
        }
        try phone.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 4)
        let item = try #require(phone.item("A"))
        #expect(item.quantity == 2 && item.name == "Mug" && item.priceMinor == 1299)
    }

    /// The old life survives only as a net-negative life (+1 and -2 concurrent with the removal,
    /// floored at 0); the laptop's re-add at t = 4000 is all the cart shows. addedAtMs is the min
    /// over every series with counted additions, including the floored life's: it shows 1000.
    @Test func addedAtComesFromUnitsThatShow() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 3, details: mug), at: r3, nowMs: 1_000)
        var phone = base, laptop = base, tablet = base
        try phone.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 2_000)
        try tablet.apply(.changeQuantity(sku: "A", delta: -2), at: r3, nowMs: 2_100)
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 3_000)
        try laptop.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 4_000)
        let merged = laptop.merging(phone).merging(tablet)
        let item = try #require(merged.item("A"))
        #expect(item.quantity == 1)
        #expect(item.addedAtMs == 4_000, "addedAtMs \(item.addedAtMs) is the ended life's")
    }

    /// The phone's -1 is concurrent with the laptop's removal and re-add: it lands in the ended
    /// life (floored at 0) and changes nothing the cart shows. Yet updatedAtMs is the phone's
    /// 5000, and, when the re-add names no details, the item shows the ended life's name and
    /// price, which the -1 re-asserted ("an add to an item not shown ... shows exactly n with the
    /// details the add gives").
    @Test func aDecrementInAnEndedLifeChangesNeitherUpdatedAtNorDetails() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 2, details: mug), at: r3, nowMs: 1_000)
        var phone = base, laptop = base
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2_000)
        try laptop.apply(.add(sku: "A", quantity: 1, details: none), at: r2, nowMs: 3_000)
        let atLaptop = try #require(laptop.item("A"))
        #expect(atLaptop.name == "" && atLaptop.priceMinor == 0 && atLaptop.updatedAtMs == 3_000)
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 5_000)
        let merged = try #require(laptop.merging(phone).item("A"))
        #expect(merged.quantity == 1, "the -1 belongs to the ended life")
        #expect(merged.updatedAtMs == 3_000, "updatedAtMs \(merged.updatedAtMs) comes from a change that shows nothing")
        #expect(merged.name == "" && merged.priceMinor == 0, "details of the ended life: \(merged.name), \(merged.priceMinor)")
    }

    // MARK: - Retries at three coordinators: a state that is not settled

    /// A client retries one add at three coordinators (the phone's, the laptop's, the
    /// tablet's) before they sync: the least dot counts, the other two are cancelled and linked
    /// to it. A removal whose token saw only the tablet's copy resets that twin, and settling
    /// cancels the counting change; but in the same pass the phone→laptop link was kept (it was
    /// looked at before the cancellation). The result is not settled: merging it with itself
    /// changes it, and the decoder refuses the record the encoder just wrote.
    @Test func aRemovalOfOneOfThreeRetriesLeavesASettledRecord() throws {
        var phone = CartState(), laptop = CartState(), tablet = CartState()
        try phone.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1, id: "K")
        try laptop.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 2, id: "K")
        try tablet.apply(.add(sku: "A", quantity: 1, details: mug), at: r3, nowMs: 3, id: "K")
        let tabletToken = tablet.view.context
        var all = phone.merging(laptop).merging(tablet)
        #expect(q(all) == 1)
        try all.apply(.remove(sku: "A"), at: r3, nowMs: 4, observed: tabletToken)
        #expect(q(all) == 0)
        let idempotent = all.merging(all) == all
        #expect(idempotent, "merging the state with itself changes it")
        let record = try bytes(all)
        let decoded: Result<StoredRecord, RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.decode(record) }
        #expect((try? decoded.get()) == .cart(all), "the record the encoder wrote does not read back: \(decoded)")
    }

    /// Probe that held: one add retried at three coordinators counts once in every merge order,
    /// with equal bytes, and a fourth attempt anywhere after a merge is a duplicate.
    @Test func aRetryAtThreeCoordinatorsCountsOnce() throws {
        var phone = CartState(), laptop = CartState(), tablet = CartState()
        try phone.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 1, id: "K")
        try laptop.apply(.add(sku: "A", quantity: 2, details: mug), at: r2, nowMs: 2, id: "K")
        try tablet.apply(.add(sku: "A", quantity: 2, details: mug), at: r3, nowMs: 3, id: "K")
        let orders = [phone.merging(laptop).merging(tablet), tablet.merging(laptop).merging(phone),
                      laptop.merging(tablet.merging(phone)), tablet.merging(phone).merging(laptop)]
        for merged in orders {
            #expect(q(merged) == 2)
            #expect(try bytes(merged) == bytes(orders[0]))
        }
        var later = laptop.merging(tablet)
        #expect(try later.apply(.add(sku: "A", quantity: 2, details: mug), at: r2, nowMs: 4, id: "K")
                    == .duplicate(Dot(replica: r2, counter: 1)))
    }

    // MARK: - 4. Crafted records: a merge of two decodable records the encoder refuses

    func craftedSeries(latest: UInt64, plus: UInt64) throws -> CartState {
        var context = CausalContext()
        for counter in 1...latest { context.insert(Dot(replica: r1, counter: counter)) }
        var item = ItemState()
        let incarnation = Dot(replica: r1, counter: 1)
        item.incarnations.entries[incarnation] = ItemState.IncarnationMark()
        let era = ActorCounter.Era(isMinus: false, incarnation: incarnation, lower: 0, upper: plus)
        item.counters[r1] = ActorCounter(start: 1, resetPlus: 0, resetMinus: 0, addedAtMs: 1, timestampMs: 1,
                                         checkpoints: [.init(counter: latest, plus: plus, minus: 0)], cancellations: [],
                                         eras: [era])
        let cart = CartState(validatedContext: context, items: [UTF8Text("A"): item], operations: OperationLog())
        // Read back through the decoder: these are records a replica could be handed.
        guard case let .cart(decoded) = try RecordCodec.decode(RecordCodec.encode(.cart(cart))) else {
            throw RecordCodecError(.unexpectedKind, offset: 1, expected: "a cart")
        }
        return decoded
    }

    /// Two records, each decodable on its own, that disagree about one series (the one says 10
    /// units after event 5, the other 3 after event 6): their merge holds checkpoints with
    /// decreasing totals and an era beyond the total, which the encoder refuses, so the merged
    /// record cannot be stored. ("Must never ... produce a record the decoder refuses".)
    @Test func theMergeOfTwoDecodableRecordsEncodes() throws {
        let x = try craftedSeries(latest: 5, plus: 10)
        let y = try craftedSeries(latest: 6, plus: 3)
        for merged in [x.merging(y), y.merging(x)] {
            _ = merged.view
            let encoded: Result<[UInt8], RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.encode(.cart(merged)) }
            #expect((try? encoded.get()) != nil, "the merge of two decodable records does not encode: \(encoded)")
        }
        // The poisoned cart then refuses every add as too large (the encoder check in apply).
        var poisoned = x.merging(y)
        let add: Result<CartState.ApplyOutcome, CartOperationError> = Result { () throws(CartOperationError) in
            try poisoned.apply(.add(sku: "B", quantity: 1, details: none), at: r2, nowMs: 9)
        }
        #expect((try? add.get()) != nil, "an add to another item: \(add)")
        // Same event, two payloads (the accepted non-commutative case) must still encode.
        let z = try craftedSeries(latest: 5, plus: 3)
        for merged in [x.merging(z), z.merging(x)] {
            let encoded: Result<[UInt8], RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.encode(.cart(merged)) }
            #expect((try? encoded.get()) != nil, "same event, two payloads: the merge does not encode: \(encoded)")
        }
    }

    // MARK: - Randomized: compaction must change nothing visible, now or later

    struct Pair { var real: CartState; var shadow: CartState }

    static func outcomeKind(_ r: Result<CartState.ApplyOutcome, CartOperationError>) -> String {
        switch r {
        case let .success(.applied(dot)): return "applied \(dot)"
        case let .success(.duplicate(dot)): return "duplicate \(dot)"
        case let .failure(error): return "refused \(error)"
        }
    }

    /// Runs one history twice in lockstep: `real` replicas compact after anti-entropy rounds
    /// (`compactAfterRound` with every replica's current state), `shadow` replicas only merge.
    /// Old copies of states (hints, delayed messages) are merged later when `oldStates`.
    /// Returns the first difference in what a replica shows or answers.
    static func compactionRun(seed: UInt64, oldStates: Bool, steps: Int = 80) -> String? {
        var unused: [CartState] = []
        var collected = 0
        return compactionRun(seed: seed, oldStates: oldStates, steps: steps, pool: &unused, stopAtDifference: true,
                             collected: &collected)
    }

    static func compactionRun(seed: UInt64, oldStates: Bool, steps: Int, pool: inout [CartState], stopAtDifference: Bool,
                              collected total: inout Int) -> String? {
        var rng = SeededRandom(seed: seed)
        let ids = (0..<3).map { Generators.replica($0) }
        var pairs = [Pair](repeating: Pair(real: CartState(), shadow: CartState()), count: 3)
        var history: [[Pair]] = [[], [], []]
        var recent: [(CartOperation, String, CausalContext?)] = []
        var log: [String] = []
        let skus = ["A", "B"]
        func differs(_ when: String) -> String? {
            for (k, pair) in pairs.enumerated() where pair.real.view.items != pair.shadow.view.items {
                let up = pair.real.view.items.reduce(0) { $0 + $1.quantity }, down = pair.shadow.view.items.reduce(0) { $0 + $1.quantity }
                let kind = up > down ? "[more after compaction]" : up < down ? "[less after compaction]" : "[details/timestamps]"
                if ProcessInfo.processInfo.environment["CARTSTORE_COMPACTION_DUMP"] == "1" {
                    for sku in skus {
                        print("REAL \(sku): \(String(describing: pair.real.items[UTF8Text(sku)]))")
                        print("SHADOW \(sku): \(String(describing: pair.shadow.items[UTF8Text(sku)]))")
                    }
                }
                return "\(kind) \(when): replica \(k) shows \(pair.real.view.items.map { "\($0.sku)=\($0.quantity)" }) after compaction, "
                    + "\(pair.shadow.view.items.map { "\($0.sku)=\($0.quantity)" }) without; full real \(pair.real.view.items) shadow \(pair.shadow.view.items)\n"
                    + log.suffix(40).joined(separator: "\n")
            }
            return nil
        }
        for step in 0..<steps {
            let i = rng.below(3)
            let roll = rng.below(100)
            let nowMs = UInt64(1_000 + step * 10)
            if roll < 50 {
                var request: (CartOperation, String, CausalContext?)
                if rng.chance(10), let retry = recent.last {
                    request = retry
                } else {
                    let sku = rng.pick(skus)
                    let op: CartOperation
                    switch rng.below(12) {
                    case 0..<3: op = .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: CartItemDetails(name: "n\(step)", priceMinor: Int64(step)))
                    case 3..<5: op = .changeQuantity(sku: sku, delta: Int64(1 + rng.below(3)))
                    case 5..<8: op = .changeQuantity(sku: sku, delta: -Int64(1 + rng.below(2)))
                    case 8: op = .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
                    case 9, 10: op = .remove(sku: sku)
                    default: op = .clear
                    }
                    let token: CausalContext? = rng.chance(30) && !history[i].isEmpty ? rng.pick(history[i].suffix(4)).real.context : nil
                    request = (op, "op-\(step)", token)
                    recent.append(request)
                }
                let token = request.2.flatMap { pairs[i].real.context.covers($0) ? $0 : nil }
                var outcomes: [String] = []
                for world in 0..<2 {
                    var state = world == 0 ? pairs[i].real : pairs[i].shadow
                    let result: Result<CartState.ApplyOutcome, CartOperationError> = Result { () throws(CartOperationError) in
                        try state.apply(request.0, id: OperationID(request.1), at: ids[i], issuedCounter: state.context.highestCounter(of: ids[i]),
                                        nowMs: nowMs, observed: token)
                    }
                    outcomes.append(outcomeKind(result))
                    if world == 0 { pairs[i].real = state } else { pairs[i].shadow = state }
                }
                log.append("step \(step): r\(i) \(request.0) id=\(request.1) token=\(token == nil ? "none" : "old") -> \(outcomes[0])")
                if outcomes[0] != outcomes[1] {
                    return "step \(step): outcomes differ: \(outcomes[0]) after compaction, \(outcomes[1]) without\n" + log.suffix(40).joined(separator: "\n")
                }
            } else if roll < 72 {
                let j = rng.below(3)
                pairs[i].real.merge(pairs[j].real)
                pairs[i].shadow.merge(pairs[j].shadow)
                log.append("step \(step): r\(i) merges r\(j)")
            } else if roll < 82, oldStates, !history[rng.below(3)].isEmpty {
                let j = rng.below(3)
                guard !history[j].isEmpty else { continue }
                let old = rng.pick(history[j])
                pairs[i].real.merge(old.real)
                pairs[i].shadow.merge(old.shadow)
                log.append("step \(step): r\(i) merges an old state of r\(j)")
            } else {
                // An anti-entropy round: replica i merges every replica's current state and
                // compacts at what all of them have seen (the contract of `compact`).
                // Half the time the round first syncs everyone (so that there is something
                // stable to compact) and then more replicas compact.
                let fullSync = rng.chance(50)
                if fullSync {
                    var all = pairs[0]
                    for k in 1..<3 { all.real.merge(pairs[k].real); all.shadow.merge(pairs[k].shadow) }
                    for k in 0..<3 { pairs[k] = all }
                }
                var compacted: [Int] = []
                for k in 0..<3 where k == i || (fullSync && rng.chance(60)) {
                    let current = pairs.map(\.real)
                    var merged = pairs[k].real
                    for state in current { merged.merge(state) }
                    pairs[k].real.compactAfterRound(with: current, nowMs: nowMs)
                    for j in 0..<3 where j != k { pairs[k].shadow.merge(pairs[j].shadow) }
                    if pairs[k].real != merged {
                        total += 1
                        compacted.append(k)
                    }
                }
                log.append("step \(step): round at r\(i)\(fullSync ? " after a full sync" : ""), compacted \(compacted)")
            }
            if ProcessInfo.processInfo.environment["CARTSTORE_COMPACTION_TRACE"] == "1" {
                print(log.last ?? "step \(step)")
                for k in 0..<3 {
                    for (world, st) in [("R", pairs[k].real), ("S", pairs[k].shadow)] {
                        guard let item = st.items[UTF8Text("A")] else { print("   r\(k)\(world) A: -"); continue }
                        let cs = item.counters.sorted { $0.key < $1.key }.map { (r, c) in
                            "\(r)[s\(c.start) reset+\(c.resetPlus)-\(c.resetMinus) cp\(c.checkpoints.map { "\($0.counter):\($0.plus)/\($0.minus)" }) eras\(c.eras.map { "\($0.isMinus ? "-" : "+")\($0.lower)..<\($0.upper)\($0.incarnation)" })]"
                        }
                        print("   r\(k)\(world) A q=\(st.item("A")?.quantity ?? 0) inc=\(item.incarnations.entries.keys.sorted()) \(cs.joined(separator: " "))")
                    }
                }
            }
            pool.append(contentsOf: pairs.map(\.real))
            if stopAtDifference, let d = differs("step \(step)") { return d }
            for k in 0..<3 {
                history[k].append(pairs[k])
                if history[k].count > 12 { history[k].removeFirst() }
            }
        }
        // Converge and compare.
        var all = pairs[0]
        for k in 1..<3 { all.real.merge(pairs[k].real); all.shadow.merge(pairs[k].shadow) }
        if all.real.view.items != all.shadow.view.items {
            return "converged: \(all.real.view.items.map { "\($0.sku)=\($0.quantity)" }) after compaction, \(all.shadow.view.items.map { "\($0.sku)=\($0.quantity)" }) without\n" + log.suffix(40).joined(separator: "\n")
        }
        return nil
    }

    func compactionProbe(oldStates: Bool, name: String) -> (failures: Int, first: String?) {
        let seed = TestSeed.make(name)
        var failures = 0
        var first: String?
        var collected = 0
        for history in 0..<400 {
            let s = seed &+ UInt64(history)
            var pool: [CartState] = []
            if let f = Self.compactionRun(seed: s, oldStates: oldStates, steps: 80, pool: &pool, stopAtDifference: true,
                                          collected: &collected) {
                failures += 1
                print("  \(name) seed \(s): \(f.prefix(120))")
                if first == nil { first = "history seed \(s): \(f)" }
            }
        }
        print("\(name): \(failures) of 400 histories differ; \(collected) compactions changed a state")
        #expect(collected > 500, "the probe must compact for its answer to mean anything")
        return (failures, first)
    }

    /// 400 histories of operations, retries, merges and compaction rounds; only current states merged.
    @Test func compactionRoundsChangeNothingVisible() {
        let (failures, first) = compactionProbe(oldStates: false, name: "compactionRoundsChangeNothingVisible")
        #expect(failures == 0, "\(first ?? "")")
    }

    /// The same with old copies of states merged later.
    @Test func compactionRoundsChangeNothingVisibleWhenOldStatesArriveLater() {
        let (failures, first) = compactionProbe(oldStates: true, name: "compactionRoundsChangeNothingVisibleWhenOldStatesArriveLater")
        #expect(failures == 0, "\(first ?? "")")
    }

    /// Replays one history of the probe: `CARTSTORE_COMPACTION_SEED=<n> CARTSTORE_COMPACTION_OLD=1`.
    @Test func replayOneCompactionHistory() {
        let env = ProcessInfo.processInfo.environment
        guard let text = env["CARTSTORE_COMPACTION_SEED"], let seed = UInt64(text) else { return }
        print(Self.compactionRun(seed: seed, oldStates: env["CARTSTORE_COMPACTION_OLD"] == "1") ?? "no difference")
    }

    /// Merge laws and the codec over real states of histories with compaction rounds, with or
    /// without old states merged later.
    static func lawProbe(seed: UInt64, oldStates: Bool) -> [String] {
        var problems: [String] = []
        var pool: [CartState] = []
        var collected = 0
        _ = compactionRun(seed: seed, oldStates: oldStates, steps: 60, pool: &pool, stopAtDifference: false, collected: &collected)
        var rng = SeededRandom(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        func roundTrip(_ state: CartState, _ what: String) {
            let encoded: Result<[UInt8], RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.encode(.cart(state)) }
            switch encoded {
            case let .failure(error): problems.append("\(what): encoder refuses an honest state: \(error)")
            case let .success(bytes):
                let decoded: Result<StoredRecord, RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.decode(bytes) }
                switch decoded {
                case let .failure(error): problems.append("\(what): decoder refuses an honest state: \(error)")
                case let .success(.cart(back)): if back != state { problems.append("\(what): decode(encode(s)) != s") }
                default: problems.append("\(what): not a cart")
                }
            }
        }
        for state in pool.suffix(30) { roundTrip(state, "pool state") }
        for index in 0..<60 {
            let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
            let ab = a.merging(b)
            if ab != b.merging(a) { problems.append("case \(index): not commutative") }
            if a.merging(a) != a { problems.append("case \(index): not idempotent") }
            let left = ab.merging(c), right = a.merging(b.merging(c))
            if left != right {
                let ql = left.view.items.map { "\($0.sku)=\($0.quantity)" }, qr = right.view.items.map { "\($0.sku)=\($0.quantity)" }
                problems.append("case \(index): not associative (shows \(ql) vs \(qr))")
            }
            roundTrip(ab, "case \(index) merge")
            roundTrip(left, "case \(index) triple merge")
        }
        return problems
    }

    func lawProbeRun(oldStates: Bool, name: String) -> [String: Int] {
        let seed = TestSeed.make(name)
        var kinds: [String: Int] = [:]
        var examples: [String: String] = [:]
        for history in 0..<60 {
            let s = seed &+ UInt64(history)
            for problem in Self.lawProbe(seed: s, oldStates: oldStates) {
                let kind = problem.components(separatedBy: ": ").dropFirst().first.map { String($0.prefix(40)) } ?? problem
                kinds[kind, default: 0] += 1
                if examples[kind] == nil { examples[kind] = "seed \(s): \(problem)" }
            }
        }
        print("\(name): \(kinds)")
        for (_, example) in examples { print("  \(example.prefix(300))") }
        return kinds
    }

    /// Merge laws and the codec over states of histories with compaction rounds.
    @Test func lawsAndCodecHoldWithCompactionRounds() {
        let kinds = lawProbeRun(oldStates: false, name: "lawsAndCodecHoldWithCompactionRounds")
        #expect(kinds.isEmpty, "\(kinds)")
    }

    /// With old states merged later.
    @Test func lawsAndCodecHoldWithCompactionRoundsAndOldStates() {
        let kinds = lawProbeRun(oldStates: true, name: "lawsAndCodecHoldWithCompactionRoundsAndOldStates")
        #expect(kinds.isEmpty, "\(kinds)")
    }

    // MARK: - Randomized: every state retries, removals and merges leave must read back

    /// Retries of a few ids at every replica, removals and sets with old tokens, merges of
    /// current and old states, full-sync compactions. After every step each touched state must
    /// be settled (merge with itself changes nothing) and read back from its bytes.
    static func settledRun(seed: UInt64) -> String? {
        var rng = SeededRandom(seed: seed)
        let ids = (0..<3).map { Generators.replica($0) }
        var states = [CartState](repeating: CartState(), count: 3)
        var history: [CartState] = []
        var log: [String] = []
        var requests: [(CartOperation, String)] = []
        for step in 0..<70 {
            let i = rng.below(3)
            let roll = rng.below(100)
            if roll < 60 {
                let request: (CartOperation, String)
                if rng.chance(40), !requests.isEmpty {
                    request = rng.pick(requests)
                } else {
                    let op: CartOperation
                    switch rng.below(10) {
                    case 0..<3: op = .add(sku: "A", quantity: Int64(1 + rng.below(2)), details: CartItemDetails(name: "n\(step)"))
                    case 3..<5: op = .changeQuantity(sku: "A", delta: Int64(1 + rng.below(2)))
                    case 5..<7: op = .changeQuantity(sku: "A", delta: -1)
                    case 7: op = .setQuantity(sku: "A", quantity: Int64(rng.below(3)))
                    default: op = .remove(sku: "A")
                    }
                    request = (op, "op-\(step)")
                    requests.append(request)
                    if requests.count > 3 { requests.removeFirst() }
                }
                let token: CausalContext? = rng.chance(50) && !history.isEmpty ? rng.pick(history.suffix(10)).context : nil
                let covered = token.flatMap { states[i].context.covers($0) ? $0 : nil }
                _ = try? states[i].apply(request.0, id: OperationID(request.1), at: ids[i],
                                         issuedCounter: states[i].context.highestCounter(of: ids[i]), nowMs: UInt64(1_000 + step), observed: covered)
                log.append("step \(step): r\(i) \(request.0) id=\(request.1) token=\(covered == nil ? "none" : "old")")
            } else if roll < 85 {
                let j = rng.below(3)
                states[i].merge(rng.chance(30) && !history.isEmpty ? rng.pick(history) : states[j])
                log.append("step \(step): r\(i) merges")
            } else {
                var all = CartState()
                for state in states { all.merge(state) }
                for k in 0..<3 { states[k] = all }
                if rng.chance(50) { states[i].compact(stable: all.context, nowMs: UInt64(1_000 + step)) }
                log.append("step \(step): full sync, r\(i) maybe compacts")
            }
            let state = states[i]
            if state.merging(state) != state { return "step \(step): not settled (most applications of one id: \(state.operations.entries.values.map { $0.entries.count }.max() ?? 0))\n" + log.suffix(20).joined(separator: "\n") }
            let back: Result<StoredRecord, RecordCodecError> = Result { () throws(RecordCodecError) in
                try RecordCodec.decode(RecordCodec.encode(.cart(state)))
            }
            if (try? back.get()) != .cart(state) { return "step \(step): does not read back: \(back)\n" + log.suffix(20).joined(separator: "\n") }
            history.append(state)
        }
        return nil
    }

    @Test func retriesRemovalsAndMergesLeaveSettledStatesThatReadBack() {
        let name = "retriesRemovalsAndMergesLeaveSettledStatesThatReadBack"
        let seed = TestSeed.make(name)
        var failures = 0
        var first: String?
        for history in 0..<500 {
            if let f = Self.settledRun(seed: seed &+ UInt64(history)) {
                failures += 1
                if first == nil { first = "seed \(seed &+ UInt64(history)): \(f)" }
                print("  \(f.prefix(90))")
            }
        }
        print("\(name): \(failures) of 500 histories")
        #expect(failures == 0, "\(first ?? "")")
    }
}
