import Testing
@testable import CartVersioning

/// The minimal sequences of issue 9 ("Cart semantics a shopper can trust"), each as it was
/// reported, with the answer a shopper expects. Every one of them failed on the folded cart
/// (format version 1).
@Suite struct CartFindingsTests: ThreeDevices {
    // MARK: 1. Folding loses units

    @Test func finding1RemoveConcurrentWithIncrementAfterDecrementsKeepsTheIncrement() throws {
        var laptop = CartState()
        try laptop.apply(.add(sku: "A", quantity: 5, details: mug), at: r2, nowMs: 1)
        var phone = laptop
        for step in 0..<4 { try phone.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 2 + UInt64(step)) }
        laptop.merge(phone)
        phone.merge(laptop)
        #expect(q(laptop) == 1)
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 10)
        try phone.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 10)
        #expect(q(laptop.merging(phone)) == 1)
        #expect(q(phone.merging(laptop)) == 1)
    }

    @Test func finding1VariantFourIncrementsConcurrentWithRemoveAllCount() throws {
        var laptop = CartState()
        try laptop.apply(.add(sku: "A", quantity: 5, details: mug), at: r2, nowMs: 1)
        var phone = laptop
        try phone.apply(.changeQuantity(sku: "A", delta: -4), at: r1, nowMs: 2)
        laptop.merge(phone)
        phone.merge(laptop)
        try laptop.apply(.remove(sku: "A"), at: r2, nowMs: 10)
        for step in 0..<4 { try phone.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 11 + UInt64(step)) }
        #expect(q(laptop.merging(phone)) == 4)
        #expect(q(phone.merging(laptop)) == 4)
    }

    // MARK: 2. Set, remove and clear on one replica, no partition

    /// Via R1: add A ×5, +1, +1, +1; the phone reads 8; the laptop adds 1 (9); the phone acts
    /// with its token of 8.
    func twoDevicesOnOneReplica() throws -> (cart: CartState, phoneToken: CausalContext) {
        var cart = CartState()
        try cart.apply(.add(sku: "A", quantity: 5, details: mug), at: r1, nowMs: 1)
        for step in 0..<3 { try cart.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 2 + UInt64(step)) }
        let token = cart.view.context
        #expect(q(cart) == 8)
        try cart.apply(.changeQuantity(sku: "A", delta: 1), at: r1, nowMs: 6)
        #expect(q(cart) == 9)
        return (cart, token)
    }

    @Test func finding2SetWithTokenGivesNPlusWhatTheTokenDidNotSee() throws {
        var (cart, token) = try twoDevicesOnOneReplica()
        try cart.apply(.setQuantity(sku: "A", quantity: 1), at: r1, nowMs: 7, observed: token)
        #expect(q(cart) == 2)
    }

    @Test func finding2RemoveAndClearWithTokenLeaveTheUnseenUnitWithItsDetails() throws {
        for operation in [CartOperation.remove(sku: "A"), .clear] {
            var (cart, token) = try twoDevicesOnOneReplica()
            try cart.apply(operation, at: r1, nowMs: 7, observed: token)
            let item = try #require(cart.item("A"), "\(operation)")
            #expect(item.quantity == 1, "\(operation)")
            #expect(item.name == "Mug" && item.priceMinor == 1299, "\(operation)")
        }
    }

    // MARK: 3. "Set quantity" is what a shopper means

    @Test func finding3ConcurrentSetsToTheSameNGiveN() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 1, details: mug), at: r3, nowMs: 1)
        let read = base.view.context
        var phone = base
        var laptop = base
        try phone.apply(.setQuantity(sku: "A", quantity: 3), at: r1, nowMs: 2, observed: read)
        try laptop.apply(.setQuantity(sku: "A", quantity: 3), at: r2, nowMs: 2, observed: read)
        #expect(q(phone.merging(laptop)) == 3)
        #expect(q(laptop.merging(phone)) == 3)
    }

    @Test func finding3RetriedSetOnOneReplicaGivesN() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1)
        let read = cart.view.context
        try cart.apply(.setQuantity(sku: "A", quantity: 3), at: r1, nowMs: 2, observed: read, id: "set-A-3")
        let retry = try cart.apply(.setQuantity(sku: "A", quantity: 3), at: r1, nowMs: 3, observed: read, id: "set-A-3")
        #expect(retry == .duplicate(Dot(replica: r1, counter: 2)))
        #expect(q(cart) == 3)
        // Even a second set (a new id) from the same stale read gives N.
        try cart.apply(.setQuantity(sku: "A", quantity: 3), at: r1, nowMs: 4, observed: read, id: "set-A-3-again")
        #expect(q(cart) == 3)
    }

    @Test func finding3EmptyTokenMeansTheCoordinatorsWholeState() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "A", quantity: 2, details: mug), at: r2, nowMs: 1)
        try cart.apply(.setQuantity(sku: "A", quantity: 1), at: r2, nowMs: 2, observed: CausalContext())
        #expect(q(cart) == 1)
        try cart.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 3, observed: CausalContext())
        #expect(cart.item("A") == nil, "-1 on 1 removes the item")
    }

    @Test func finding3DecrementToZeroWithAnOldTokenStillRemoves() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "B", quantity: 1, details: mug), at: r1, nowMs: 1)
        let old = cart.view.context  // taken before A existed
        try cart.apply(.add(sku: "A", quantity: 1, details: mug), at: r2, nowMs: 2)
        try cart.apply(.changeQuantity(sku: "A", delta: -1), at: r1, nowMs: 3, observed: old)
        #expect(cart.item("A") == nil, "a decrement is relative to the coordinator, whatever the token")
    }

    // MARK: 4. A surviving item keeps its details

    @Test func finding4ItemKeptAliveByAConcurrentAddKeepsItsDetails() throws {
        var base = CartState()
        try base.apply(.add(sku: "A", quantity: 1, details: mug), at: r3, nowMs: 1)
        var phone = base
        var laptop = base
        try phone.apply(.remove(sku: "A"), at: r1, nowMs: 2)
        try laptop.apply(.add(sku: "A", quantity: 1, details: CartItemDetails()), at: r2, nowMs: 2)
        for merged in [phone.merging(laptop), laptop.merging(phone)] {
            let item = try #require(merged.item("A"))
            #expect(item.quantity == 1)
            #expect(item.name == "Mug" && item.priceMinor == 1299)
        }
    }

    // MARK: 5. Equal states, equal bytes

    @Test func finding5NFCAndNFDSpellingsAreOneItemWithOneEncoding() throws {
        var base = CartState()
        try base.apply(.add(sku: "x", quantity: 1, details: CartItemDetails()), at: r3, nowMs: 1)
        var one = base
        var two = base
        try one.apply(.add(sku: "caf\u{E9}", quantity: 1, details: CartItemDetails(name: "Caf\u{E9}", metadata: ["r\u{F4}le": "a"])),
                      at: r1, nowMs: 2)
        try two.apply(.add(sku: "cafe\u{301}", quantity: 1, details: CartItemDetails(name: "Cafe\u{301}", metadata: ["ro\u{302}le": "b"])),
                      at: r2, nowMs: 2)
        var ab = one.merging(two)
        var ba = two.merging(one)
        #expect(ab.view.items.count == 2)
        #expect(q(ab, "caf\u{E9}") == 2 && q(ab, "cafe\u{301}") == 2)
        #expect(ab == ba)
        #expect(try bytes(ab) == bytes(ba))
        // Further exchanges keep them equal, byte for byte.
        try ab.apply(.changeQuantity(sku: "cafe\u{301}", delta: 1), at: r1, nowMs: 3)
        try ba.apply(.changeQuantity(sku: "caf\u{E9}", delta: 1), at: r2, nowMs: 3)
        let left = ab.merging(ba)
        let right = ba.merging(ab)
        #expect(q(left, "caf\u{E9}") == 4)
        #expect(try bytes(left) == bytes(right))
        #expect(Array(left.view.items.first?.sku.utf8 ?? "".utf8) == Array("caf\u{E9}".utf8), "stored in NFC")
    }

    // MARK: 6. Every merge result is storable

    @Test func finding6FiveReplicasOf256NewSKUsMergeIntoAStorableCart() throws {
        var states: [CartState] = []
        for replica in 0..<5 {
            var cart = CartState()
            for index in 0..<256 {
                try cart.apply(.add(sku: "r\(replica)-sku-\(index)", quantity: 1, details: CartItemDetails(name: "Item \(index)")),
                               at: Generators.replica(replica), nowMs: UInt64(index))
            }
            #expect(throws: CartOperationError.cartFull(itemsMax: 256)) {
                try cart.apply(.add(sku: "one-more", quantity: 1, details: CartItemDetails()), at: Generators.replica(replica), nowMs: 999)
            }
            states.append(cart)
        }
        var merged = CartState()
        for state in states { merged.merge(state) }
        #expect(merged.view.items.count == 1_280)
        let encoded = try bytes(merged)
        #expect(try RecordCodec.decode(encoded) == .cart(merged))
        print("finding-6: 5 replicas x 256 SKUs merged: \(merged.view.items.count) items, \(encoded.count) bytes")
        // It remembers all 1,280 operation ids until a compaction forgets them: until then the
        // cart takes no more operations (a rate limit, not a size limit).
        #expect(throws: CartOperationError.tooManyRecentOperations(max: 1_024)) {
            try merged.apply(.remove(sku: "r0-sku-0"), at: r1, nowMs: 1_000)
        }
        merged.compact(stable: merged.context, nowMs: 11 * 60_000)
        // The merged cart is over the item limit: adds of new SKUs are refused, removals work.
        #expect(throws: CartOperationError.cartFull(itemsMax: 256)) {
            try merged.apply(.add(sku: "new", quantity: 1, details: CartItemDetails()), at: r1, nowMs: 1_000)
        }
        try merged.apply(.remove(sku: "r0-sku-0"), at: r1, nowMs: 1_001)
        #expect(merged.view.items.count == 1_279)
    }

    @Test func finding6LargeItemsAreRefusedAtApplyAndMergesStillEncode() throws {
        let bigMetadata = Dictionary(uniqueKeysWithValues: (0..<32).map {
            ("key-\($0)-" + String(repeating: "k", count: 50), String(repeating: "v", count: 512))
        })
        var states: [CartState] = []
        for replica in 0..<8 {
            var cart = CartState()
            var refusedAt: Int?
            for index in 0..<55 {
                do {
                    try cart.apply(.add(sku: "big-\(replica)-\(index)", quantity: 1,
                                        details: CartItemDetails(name: String(repeating: "n", count: 512), metadata: bigMetadata)),
                                   at: Generators.replica(replica), nowMs: UInt64(index))
                } catch {
                    #expect(error == .cartTooLarge(bytesMax: VersioningLimits.default.cartBytesPerOperationMax))
                    refusedAt = index
                    break
                }
            }
            #expect(refusedAt != nil, "55 items of 19 KB each pass the 256 KiB budget")
            #expect(try bytes(cart).count <= VersioningLimits.default.cartBytesPerOperationMax)
            states.append(cart)
        }
        var merged = CartState()
        for state in states { merged.merge(state) }
        let encoded = try bytes(merged)
        print("finding-6: 8 replicas of full carts with large items merged: \(merged.view.items.count) items, \(encoded.count) bytes")
        #expect(encoded.count > 4 * VersioningLimits.default.cartBytesPerOperationMax)
        #expect(try RecordCodec.decode(encoded) == .cart(merged))
        // Removals shrink it even though it is over the budget.
        try merged.apply(.clear, at: r1, nowMs: 1_000)
        merged.compact(stable: merged.context, nowMs: 1_000)
        #expect(try bytes(merged).count < 64 << 10)
    }

    // MARK: 7. Sibling drops reported (see also SiblingSetTests)

    @Test func finding7StoredRecordMergeIsAPureJoin() throws {
        var onA = SiblingSet()
        var onB = SiblingSet()
        for index in 0..<20 {
            try onA.write(Sibling(value: [UInt8(index)], timestampMs: UInt64(index)), context: VersionVector(), at: r1)
            try onB.write(Sibling(value: [UInt8(index)], timestampMs: UInt64(index)), context: VersionVector(), at: r2)
        }
        guard case let .siblings(merged)? = StoredRecord.siblings(onA).merging(.siblings(onB)) else {
            Issue.record("kinds differ")
            return
        }
        #expect(merged.siblingCount == 40, "no write is lost in a merge")
    }

    // MARK: 8. Counter reuse, unissued contexts, overflow

    /// The coordinator's local record holds its earlier write; the state handed to `apply`
    /// (say, read from another replica) does not. Issuing from it would reuse the counter and
    /// the item would vanish on merge.
    @Test func finding8ApplyToAStateMissingOwnWritesIsRefused() throws {
        var local = CartState()
        try local.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1)
        var fromElsewhere = CartState()
        try fromElsewhere.apply(.add(sku: "B", quantity: 1, details: mug), at: r2, nowMs: 1)
        let issued = local.context.highestCounter(of: r1)
        #expect(throws: CartOperationError.missingOwnWrites(replica: r1, seen: 0, issued: 1)) {
            try fromElsewhere.apply(.add(sku: "C", quantity: 1, details: mug), id: OperationID("c"), at: r1, issuedCounter: issued, nowMs: 2)
        }
        fromElsewhere.merge(local)
        try fromElsewhere.apply(.add(sku: "C", quantity: 1, details: mug), id: OperationID("c"), at: r1, issuedCounter: issued, nowMs: 2)
        let final = fromElsewhere.merging(local)
        #expect(final.view.items.map(\.sku) == ["A", "B", "C"], "nothing vanished")
    }

    @Test func finding8CounterOverflowIsATypedError() throws {
        var limits = VersioningLimits()
        limits.counterMax = 2
        var cart = CartState()
        try cart.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 1, limits: limits)
        try cart.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 2, limits: limits)
        let before = cart
        #expect(throws: CartOperationError.counterExhausted(r1)) {
            try cart.apply(.add(sku: "A", quantity: 1, details: mug), at: r1, nowMs: 3, limits: limits)
        }
        #expect(cart == before)
        #expect(cart.context.highestCounter(of: r1) == 2)
    }
}
