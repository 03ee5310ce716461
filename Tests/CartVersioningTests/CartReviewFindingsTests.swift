import CartTestSupport
import Testing
@testable import CartVersioning

/// What an adversarial review of the exact cart found (each failed before its fix), as
/// regression tests: the retry window measured at merge time, undoing a retry that erased a
/// concurrent rename, a retried decrement taking effect twice, decrements eating the next life of
/// an item, crafted records that trapped or poisoned merges, and a cart over its budget that
/// could not shrink.
@Suite struct CartReviewFindingsTests {
    let r1 = Generators.replica(0)  // the phone's coordinator
    let r2 = Generators.replica(1)  // the laptop's coordinator
    let r3 = Generators.replica(2)
    let mug = CartItemDetails(name: "Mug", priceMinor: 1299)
    let none = CartItemDetails()

    func q(_ cart: CartState, _ sku: String = "A") -> Int64 { cart.item(sku)?.quantity ?? 0 }
    func bytes(_ cart: CartState) throws -> [UInt8] { try RecordCodec.encode(.cart(cart)) }

    // MARK: - R1: the retry window

    @Test func mergesNeverPruneSoAssociativityHoldsAcrossTheWindow() throws {
        var a = CartState(), b = CartState(), c = CartState()
        try a.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 0, id: "K")
        try b.apply(.add(sku: "A", quantity: 2, details: mug), at: r2, nowMs: 1_000, id: "K")
        try c.apply(.add(sku: "B", quantity: 1, details: none), at: r3, nowMs: 700_000)
        let left = a.merging(b).merging(c)
        let right = a.merging(b.merging(c))
        #expect(q(left) == 2 && q(right) == 2)
        #expect(try bytes(left) == bytes(right))
    }

    /// A replica whose clock runs 11 minutes ahead no longer flushes the log on merge: a retry at
    /// the same coordinator 1 s later is still a duplicate.
    @Test func aFastClockElsewhereDoesNotMakeARetryApplyTwice() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 10_000, id: "K")
        var skewed = cart
        try skewed.apply(.add(sku: "B", quantity: 1, details: none), at: r3, nowMs: 10_000 + 660_000)
        cart.merge(skewed)
        let outcome = try cart.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 11_000, id: "K")
        #expect(outcome == .duplicate(Dot(replica: r1, counter: 1)))
        #expect(q(cart) == 2)
    }

    /// Laws over histories whose compactions forget ids (a 200 ms window, about 10 ms a step).
    @Test func joinLawsHoldWhileIDsAreForgotten() throws {
        let name = "joinLawsHoldWhileIDsAreForgotten"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var limits = Generators.lawLimits
        limits.operationWindowMs = 200
        var checked = 0
        for history in 0..<20 {
            let pool = Generators.cartPool(&rng, replicas: 3, steps: 80, limits: limits)
            for caseIndex in 0..<30 {
                let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                let ab = a.merging(b, limits: limits)
                #expect(ab == b.merging(a, limits: limits), "commutative: \(context)")
                #expect(a.merging(a, limits: limits) == a, "idempotent: \(context)")
                #expect(ab.merging(c, limits: limits) == a.merging(b.merging(c, limits: limits), limits: limits), "associative: \(context)")
                checked += 1
            }
        }
        #expect(checked == 600)
    }

    // MARK: - R2: undoing a retry keeps a concurrent rename

    @Test func undoingARetryKeepsAConcurrentRename() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.updateDetails(sku: "A", details: CartItemDetails(name: "Big mug", priceMinor: 1500)), at: r2, nowMs: 5)
        try phone.apply(.add(sku: "A", quantity: 1, details: none), at: r1, nowMs: 6, id: "K")
        try laptop.apply(.add(sku: "A", quantity: 1, details: none), at: r2, nowMs: 7, id: "K")
        for merged in [phone.merging(laptop), laptop.merging(phone)] {
            let item = try #require(merged.item("A"))
            #expect(item.quantity == 2)
            #expect(item.name == "Big mug" && item.priceMinor == 1500)
        }
    }

    // MARK: - R3: a retried decrement that was a removal at one coordinator

    @Test func retriedDecrementThatRemovedAtOneCoordinatorAppliesOnce() throws {
        for (first, second) in [(r1, r2), (r2, r1)] {
            var firstSide = CartState()
            try firstSide.apply(.add(sku: "A", quantity: 1, details: mug), at: r3, nowMs: 1)
            var secondSide = firstSide
            try firstSide.apply(.changeQuantity(sku: "A", delta: 2), at: first, nowMs: 2)  // the laptop's +2 reaches one side: 3
            try secondSide.apply(.changeQuantity(sku: "A", delta: -1), at: second, nowMs: 3, id: "K")  // sees 1: a removal
            try firstSide.apply(.changeQuantity(sku: "A", delta: -1), at: first, nowMs: 4, id: "K")    // the retry: 3 -> 2
            #expect(q(firstSide.merging(secondSide)) == 2, "coordinators \(first), \(second)")
            #expect(q(secondSide.merging(firstSide)) == 2)
        }
    }

    // MARK: - R4: a decrement does not eat the next life of an item

    @Test func decrementConcurrentWithRemoveAndReAddDoesNotEatTheReAdd() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        try laptop.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 3)
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 2)
        #expect(q(phone.merging(laptop)) == 1)
        #expect(q(laptop.merging(phone)) == 1)
    }

    @Test func setToOneConcurrentWithDecrementToOneGivesOne() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 2, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.setQuantity(sku: "A", quantity: 1), at: r2, nowMs: 2, observed: laptop.view.context)
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 2)
        #expect(q(phone.merging(laptop)) == 1)
    }

    @Test func decrementConcurrentWithRemoveLeavesNothingBehind() throws {
        var phone = CartState()
        try phone.apply(.add(sku: "A", quantity: 3, details: mug), at: r1, nowMs: 1)
        var laptop = phone
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 2)
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 2)
        var merged = phone.merging(laptop)
        #expect(q(merged) == 0)
        merged.compact(stable: merged.context, nowMs: 3)
        #expect(merged.storedItemCount == 0, "no negative leftover keeps the item")
    }

    /// Concurrent decrements in one life all count (a counter), and an increment concurrent with
    /// a removal still survives it.
    @Test func concurrentDecrementsStillCountAndIncrementsStillSurvive() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 3, details: mug), at: r3, nowMs: 1)
        var phone = base, laptop = base
        try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 2)
        try laptop.apply(.changeQuantity(sku: "A", delta: -1), at: r2, nowMs: 2)
        #expect(q(phone.merging(laptop)) == 1)
        var remover = base
        try remover.apply(.remove(sku: "A"), at: r2, nowMs: 3)
        var adder = base
        try adder.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 3)
        #expect(q(remover.merging(adder)) == 1)
    }

    // MARK: - R5: crafted records

    func craftedHugeSeries(plus: UInt64) -> CartState {
        var context = CausalContext()
        context.insert(Dot(replica: r1, counter: 1))
        var item = ItemState()
        item.counters[r1] = ActorCounter(start: 1, resetPlus: 0, resetMinus: 0, addedAtMs: 1, timestampMs: 1,
                                         checkpoints: [.init(counter: 1, plus: plus, minus: 0)], cancellations: [], eras: [])
        return CartState(validatedContext: context, items: [UTF8Text("A"): item], operations: OperationLog())
    }

    @Test func hugeSeriesTotalsAreRefusedAndNeverTrap() throws {
        #expect(throws: RecordCodecError.self) { try bytes(craftedHugeSeries(plus: UInt64.max - 1)) }
        // The same record written by hand: its checkpoint total is out of range.
        var record = try bytes(craftedHugeSeries(plus: 1))
        // The record ends: plus minus cancelCount eraCount setCount nameCount priceCount metaCount
        // incarnationCount opCount, one byte each here.
        let plusOffset = record.count - 10
        #expect(record[plusOffset] == 1, "the checkpoint's plus total")
        record.replaceSubrange(plusOffset...plusOffset, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: RecordCodecError.self) { try RecordCodec.decode(record) }
        // In memory (no decoder in between), an add is a typed error, not a trap.
        var cart = craftedHugeSeries(plus: ActorCounter.unitsMax)
        #expect(throws: CartOperationError.self) {
            try cart.apply(.add(sku: "A", quantity: 5, details: CartItemDetails()), at: r1, nowMs: 2)
        }
    }

    @Test func aLoggedIntervalBeyondItsSeriesCannotPoisonMerges() throws {
        var context = CausalContext()
        context.insert(Dot(replica: r1, counter: 1))
        context.insert(Dot(replica: r2, counter: 1))
        var item = ItemState()
        for replica in [r1, r2] {
            var counter = ActorCounter(start: 1, addedAtMs: 1, timestampMs: 1)
            _ = try counter.change(by: 1, counter: 1, incarnations: [], addedAtMs: 1, timestampMs: 1, checkpointsMax: 8)
            item.counters[replica] = counter
        }
        var log = OperationLog()
        log.entries[OperationID("K")] = .init(timestampMs: 1, applications: [
            .init(dot: Dot(replica: r1, counter: 1), sku: UTF8Text("A"), change: (1, .init(isMinus: false, lower: 0, upper: 1))),
            .init(dot: Dot(replica: r2, counter: 1), sku: UTF8Text("A"), change: (1, .init(isMinus: false, lower: 0, upper: 1_000))),
        ])
        let crafted = CartState(validatedContext: context, items: [UTF8Text("A"): item], operations: log)
        guard case let .cart(decoded) = try RecordCodec.decode(bytes(crafted)) else { Issue.record("not a cart"); return }
        let merged = decoded.merging(CartState())
        #expect(try RecordCodec.decode(bytes(merged)) == .cart(merged))
        #expect(decoded.merging(decoded) == decoded)
    }

    // MARK: - R6: a cart over its budget can shrink

    @Test func overBudgetCartAcceptsShrinkingOperations() throws {
        var limits = VersioningLimits()
        limits.cartBytesPerOperationMax = 4_000
        let bigMeta = ["note": String(repeating: "x", count: 400)]
        var phone = CartState(), laptop = CartState()
        for index in 0..<6 {
            try phone.apply(.add(sku: "P\(index)", quantity: 3, details: CartItemDetails(name: "p", metadata: bigMeta)),
                            at: r1, nowMs: UInt64(index + 1), limits: limits)
            try laptop.apply(.add(sku: "L\(index)", quantity: 3, details: CartItemDetails(name: "l", metadata: bigMeta)),
                             at: r2, nowMs: UInt64(index + 1), limits: limits)
        }
        let merged = phone.merging(laptop, limits: limits)
        #expect(try bytes(merged).count > limits.cartBytesPerOperationMax)
        var attempt = merged
        try attempt.apply(.updateDetails(sku: "P0", details: CartItemDetails(metadata: [:])), at: r1, nowMs: 10, limits: limits)
        attempt = merged
        try attempt.apply(.changeQuantity(sku: "P0", delta: -1), at: r1, nowMs: 10, limits: limits)
        #expect(q(attempt, "P0") == 2)
        attempt = merged
        try attempt.apply(.setQuantity(sku: "P0", quantity: 1), at: r1, nowMs: 10, limits: limits)
        #expect(q(attempt, "P0") == 1)
        attempt = merged
        #expect(throws: CartOperationError.cartTooLarge(bytesMax: 4_000)) {
            try attempt.apply(.add(sku: "P0", quantity: 1, details: none), at: r1, nowMs: 10, limits: limits)
        }
    }
}
