import Testing
@testable import CartVersioning

/// Scenarios of the cart CRDT, one behaviour each.
@Suite struct CartStateTests {
    let phone = Generators.replica(0)
    let laptop = Generators.replica(1)
    let tablet = Generators.replica(2)

    func quantities(_ cart: CartState) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: cart.view.items.map { ($0.sku, $0.quantity) })
    }

    @Test func concurrentIncrementsAllCount() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails(name: "Mug", priceMinor: 1299)), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 2)
        try onLaptop.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 2)
        #expect(quantities(onPhone.merging(onLaptop)) == ["mug": 3])
        #expect(onPhone.merging(onLaptop) == onLaptop.merging(onPhone))
    }

    @Test func removeDropsObservedUnitsAndConcurrentChangeSurvivesWithItsOwnUnitsAndTheDetails() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 5, details: CartItemDetails(name: "Mug", priceMinor: 1299)), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.remove(sku: "mug"), at: phone, nowMs: 2)
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: 3)
        for merged in [onPhone.merging(onLaptop), onLaptop.merging(onPhone)] {
            #expect(quantities(merged) == ["mug": 1], "the removal took the 5 it saw; the concurrent +1 survives")
            let item = try #require(merged.item("mug"))
            #expect(item.name == "Mug" && item.priceMinor == 1299, "the surviving change re-asserted the details")
            #expect(item.addedAtMs == 1, "the surviving change belongs to the incarnation added at 1")
            #expect(item.updatedAtMs == 3)
        }
    }

    @Test func removedItemStaysRemovedAfterAnyMergeOrderAndCompactionCollectsIt() throws {
        var onPhone = CartState()
        try onPhone.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        let stale = onPhone
        try onPhone.apply(.remove(sku: "mug"), at: phone, nowMs: 2)
        #expect(onPhone.merging(stale).view.items.isEmpty)
        #expect(stale.merging(onPhone).view.items.isEmpty)
        #expect(onPhone.storedItemCount == 1, "hidden until every replica has seen the removal")
        #expect(onPhone.compact(stable: stale.context, nowMs: 3) == 0, "a stable point that has not seen the removal collects nothing")
        #expect(onPhone.compact(stable: onPhone.context, nowMs: 3) == 1)
        #expect(onPhone.storedItemCount == 0)
        #expect(onPhone.merging(stale).view.items.isEmpty, "a stale copy does not bring it back after collection")
        #expect(stale.merging(onPhone) == onPhone.merging(stale))
    }

    @Test func removeWithClientContextSparesUnitsTheClientDidNotSee() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        let seenByClient = cart.view.context
        try cart.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: laptop, nowMs: 2)
        try cart.apply(.remove(sku: "mug"), at: tablet, nowMs: 3, observed: seenByClient)
        #expect(quantities(cart) == ["mug": 2])
    }

    @Test func setQuantityMeansNAndUnseenChangesCountOnTop() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        let read = base.view.context
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.setQuantity(sku: "mug", quantity: 5), at: phone, nowMs: 2, observed: read)
        #expect(quantities(onPhone) == ["mug": 5])
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: 2)
        #expect(quantities(onPhone.merging(onLaptop)) == ["mug": 6], "the concurrent +1 counts on top of the set")
        var merged = onPhone.merging(onLaptop)
        try merged.apply(.setQuantity(sku: "mug", quantity: 4), at: tablet, nowMs: 3, observed: merged.view.context)
        #expect(quantities(merged) == ["mug": 4])
        try merged.apply(.setQuantity(sku: "mug", quantity: 0), at: tablet, nowMs: 4)
        #expect(quantities(merged).isEmpty)
    }

    @Test func concurrentSetsToDifferentValuesResolveByTimestampThenReplica() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        let read = base.view.context
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.setQuantity(sku: "mug", quantity: 3), at: phone, nowMs: 10, observed: read)
        try onLaptop.apply(.setQuantity(sku: "mug", quantity: 7), at: laptop, nowMs: 9, observed: read)
        #expect(quantities(onPhone.merging(onLaptop)) == ["mug": 3], "the later set wins")
        var tiePhone = base
        var tieLaptop = base
        try tiePhone.apply(.setQuantity(sku: "mug", quantity: 3), at: phone, nowMs: 10, observed: read)
        try tieLaptop.apply(.setQuantity(sku: "mug", quantity: 7), at: laptop, nowMs: 10, observed: read)
        #expect(quantities(tieLaptop.merging(tiePhone)) == ["mug": 7], "same timestamp: the greater replica wins")
    }

    @Test func decrementToZeroRemovesAndDecrementOfMissingItemIsRefused() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        try cart.apply(.changeQuantity(sku: "mug", delta: -1), at: phone, nowMs: 2)
        #expect(quantities(cart) == ["mug": 1])
        try cart.apply(.changeQuantity(sku: "mug", delta: -1), at: phone, nowMs: 3)
        #expect(quantities(cart).isEmpty)
        let before = cart
        #expect(throws: CartOperationError.itemNotFound(sku: "mug")) {
            try cart.apply(.changeQuantity(sku: "mug", delta: -1), at: phone, nowMs: 4)
        }
        #expect(cart == before)
    }

    @Test func concurrentDecrementsBelowZeroHideTheItemAndAnAddStartsFromZero() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.changeQuantity(sku: "mug", delta: -1), at: phone, nowMs: 2)
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: -1), at: laptop, nowMs: 2)
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: -1), at: laptop, nowMs: 3)  // reaches 0 there: a removal
        var merged = onPhone.merging(onLaptop)
        #expect(quantities(merged).isEmpty, "quantity 0 or less is not shown")
        try merged.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: tablet, nowMs: 4)
        #expect(quantities(merged) == ["mug": 1], "an add on a hidden item gives exactly what it adds")
    }

    @Test func detailsAreLastWriterWinsWithReplicaTieBreak() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails(name: "Mug", priceMinor: 100)), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.updateDetails(sku: "mug", details: CartItemDetails(name: "Phone mug")), at: phone, nowMs: 5)
        try onLaptop.apply(.updateDetails(sku: "mug", details: CartItemDetails(name: "Laptop mug", metadata: ["c": "red"])),
                           at: laptop, nowMs: 5)
        try onPhone.apply(.updateDetails(sku: "mug", details: CartItemDetails(priceMinor: 250)), at: phone, nowMs: 6)
        let item = try #require(onPhone.merging(onLaptop).item("mug"))
        #expect(item.name == "Laptop mug", "same timestamp: the greater replica id wins")
        #expect(item.priceMinor == 250, "fields are independent registers")
        #expect(item.metadata == ["c": "red"])
        #expect(item.updatedAtMs == 6)
        #expect(item.addedAtMs == 1)
    }

    @Test func clearRemovesObservedItemsOnly() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "a", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        try cart.apply(.add(sku: "b", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        let read = cart.view.context
        try cart.apply(.add(sku: "c", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 2)
        try cart.apply(.clear, at: phone, nowMs: 3, observed: read)
        #expect(quantities(cart) == ["c": 1])
        try cart.apply(.clear, at: phone, nowMs: 4)
        #expect(quantities(cart).isEmpty, "without a token: everything the coordinator holds")
    }

    @Test func refusedOperationsChangeNothing() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        let before = cart
        let bad: [CartOperation] = [
            .add(sku: "", quantity: 1, details: CartItemDetails()),
            .add(sku: String(repeating: "x", count: 129), quantity: 1, details: CartItemDetails()),
            .add(sku: "mug", quantity: 0, details: CartItemDetails()),
            .add(sku: "mug", quantity: 2_000_000, details: CartItemDetails()),
            .add(sku: "mug", quantity: 1, details: CartItemDetails(priceMinor: -1)),
            .add(sku: "mug", quantity: 1, details: CartItemDetails(name: String(repeating: "n", count: 513))),
            .changeQuantity(sku: "mug", delta: 0),
            .changeQuantity(sku: "mug", delta: .min),
            .setQuantity(sku: "mug", quantity: -1),
            .updateDetails(sku: "mug", details: CartItemDetails()),
            .updateDetails(sku: "tea", details: CartItemDetails(name: "Tea")),
        ]
        for operation in bad {
            #expect(throws: CartOperationError.self, "\(operation)") {
                try cart.apply(operation, at: phone, nowMs: 2)
            }
            #expect(cart == before)
        }
        for id in ["", String(repeating: "k", count: 65)] {
            #expect(throws: CartOperationError.invalidOperationID(reason: "must have 1...64 bytes")) {
                try cart.apply(.remove(sku: "mug"), at: phone, nowMs: 2, id: id)
            }
        }
        var unseen = CartState()
        try unseen.apply(.add(sku: "x", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 1)
        #expect(throws: CartOperationError.observedContextNotCovered) {
            try cart.apply(.remove(sku: "mug"), at: phone, nowMs: 2, observed: unseen.context)
        }
        #expect(cart == before)
    }

    @Test func cartFullAndCartTooLargeAreTypedErrors() throws {
        var limits = VersioningLimits()
        limits.cartItemsPerOperationMax = 2
        var cart = CartState()
        try cart.apply(.add(sku: "a", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1, limits: limits)
        try cart.apply(.add(sku: "b", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1, limits: limits)
        #expect(throws: CartOperationError.cartFull(itemsMax: 2)) {
            try cart.apply(.add(sku: "c", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1, limits: limits)
        }
        try cart.apply(.add(sku: "a", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1, limits: limits)
        #expect(quantities(cart) == ["a": 2, "b": 1])

        var small = VersioningLimits()
        small.cartBytesPerOperationMax = 200
        var big = CartState()
        let before = big
        #expect(throws: CartOperationError.cartTooLarge(bytesMax: 200)) {
            try big.apply(.add(sku: "a", quantity: 1, details: CartItemDetails(name: String(repeating: "n", count: 250))),
                          at: phone, nowMs: 1, limits: small)
        }
        #expect(big == before)
    }

    @Test func retriesApplyOnceAtOneReplicaAndAtTwo() throws {
        var cart = CartState()
        let first = try cart.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1, id: "key-1")
        let again = try cart.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 2, id: "key-1")
        guard case let .applied(dot) = first else { Issue.record("not applied"); return }
        #expect(again == .duplicate(dot))
        #expect(quantities(cart) == ["mug": 2])

        // Timed out at the phone's coordinator, retried at the laptop's before they synced.
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails(name: "Mug")), at: tablet, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.changeQuantity(sku: "mug", delta: 3), at: phone, nowMs: 2, id: "key-2")
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 3), at: laptop, nowMs: 3, id: "key-2")
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: 4, id: "key-3")
        for merged in [onPhone.merging(onLaptop), onLaptop.merging(onPhone)] {
            #expect(quantities(merged) == ["mug": 5], "1 + 3 once + 1")
            #expect(merged.item("mug")?.name == "Mug")
        }
        #expect(onPhone.merging(onLaptop) == onLaptop.merging(onPhone))
        var later = onPhone.merging(onLaptop)
        #expect(try later.apply(.changeQuantity(sku: "mug", delta: 3), at: tablet, nowMs: 5, id: "key-2") == .duplicate(Dot(replica: phone, counter: 1)))
    }

    @Test func retriedSetAtTwoReplicasGivesN() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: tablet, nowMs: 1)
        let read = base.view.context
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.setQuantity(sku: "mug", quantity: 3), at: phone, nowMs: 2, observed: read, id: "set-3")
        try onLaptop.apply(.setQuantity(sku: "mug", quantity: 3), at: laptop, nowMs: 3, observed: read, id: "set-3")
        #expect(quantities(onPhone.merging(onLaptop)) == ["mug": 3])
    }

    @Test func operationIDsAreForgottenAtCompactionAfterTheWindowWithBoundedMemory() throws {
        var limits = VersioningLimits()
        limits.operationWindowMs = 1_000
        limits.operationLogMax = 4
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 0, id: "old", limits: limits)
        try cart.apply(.add(sku: "tea", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 500, id: "new", limits: limits)
        cart.compact(stable: cart.context, nowMs: 999, limits: limits)
        #expect(try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 999, id: "old",
                               limits: limits) == .duplicate(Dot(replica: phone, counter: 1)), "within the window")
        var partial = cart
        partial.compact(stable: CausalContext(versionVector: VersionVector([phone: 1])), nowMs: 5_000, limits: limits)
        #expect(partial.rememberedOperationCount == 2, "not every replica holds the whole cart: nothing is compacted")
        cart.compact(stable: cart.context, nowMs: 1_000, limits: limits)
        #expect(cart.rememberedOperationCount == 1, "'old' is stable and 1 s old; 'new' is not old enough")
        if case .duplicate = try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1_002,
                                            id: "old", limits: limits) {
            Issue.record("a retry after the window (and a compaction) applies again")
        }
        try cart.apply(.add(sku: "tea", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1_010, id: "k1", limits: limits)
        try cart.apply(.add(sku: "tea", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1_011, id: "k2", limits: limits)
        #expect(cart.rememberedOperationCount == 4)
        let full = cart
        #expect(throws: CartOperationError.tooManyRecentOperations(max: 4), "a flood between compactions is refused") {
            try cart.apply(.remove(sku: "tea"), at: phone, nowMs: 1_012, id: "k3", limits: limits)
        }
        #expect(cart == full)
        #expect(try cart.apply(.add(sku: "tea", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1_013, id: "k2",
                               limits: limits) == .duplicate(Dot(replica: phone, counter: 5)), "retries are still answered")
        cart.compact(stable: cart.context, nowMs: 2_600, limits: limits)
        try cart.apply(.remove(sku: "tea"), at: phone, nowMs: 2_600, id: "k3", limits: limits)
    }

    /// The window is between the applications, not between a merge and the newest activity: a
    /// retry one second after the first attempt still applies once when the two copies meet
    /// after a long partition (found in review).
    @Test func retryAppliesOnceAfterALongPartition() throws {
        var phoneSide = CartState()
        var laptopSide = CartState()
        try phoneSide.apply(.add(sku: "A", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 0, id: "K")
        try laptopSide.apply(.add(sku: "A", quantity: 2, details: CartItemDetails()), at: laptop, nowMs: 1_000, id: "K")
        try laptopSide.apply(.add(sku: "B", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 660_000)
        var third = CartState()
        try third.apply(.add(sku: "C", quantity: 1, details: CartItemDetails()), at: tablet, nowMs: 700_000)
        for healed in [phoneSide.merging(laptopSide), laptopSide.merging(phoneSide),
                       phoneSide.merging(laptopSide).merging(third), phoneSide.merging(laptopSide.merging(third))] {
            #expect(healed.item("A")?.quantity == 2)
        }
        #expect(try RecordCodec.encode(.cart(phoneSide.merging(laptopSide).merging(third)))
                    == RecordCodec.encode(.cart(phoneSide.merging(laptopSide.merging(third)))), "associative")
    }

    @Test func staleTokensBeyondTheRememberedHistoryAreRefused() throws {
        var limits = VersioningLimits()
        limits.checkpointsPerCounterMax = 3
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1, limits: limits)
        let old = cart.view.context
        for step in 0..<3 {
            try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: phone, nowMs: 2 + UInt64(step), limits: limits)
        }
        let before = cart
        #expect(throws: CartOperationError.self) {
            try cart.apply(.remove(sku: "mug"), at: laptop, nowMs: 9, observed: old, limits: limits)
        }
        #expect(cart == before)
        let fresh = cart.view.context
        try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: phone, nowMs: 10, limits: limits)
        try cart.apply(.remove(sku: "mug"), at: laptop, nowMs: 11, observed: fresh, limits: limits)
        #expect(quantities(cart) == ["mug": 1], "a token a little stale removes exactly what it saw")
    }

    @Test func compactionKeepsEveryVisibleUnitAndBoundsCounters() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 0)
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 0)
        for step in 1..<50 {
            try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: phone, nowMs: UInt64(step))
            try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: UInt64(step))
        }
        let item = try #require(cart.items["mug"])
        #expect(item.counters.count == 2)
        #expect(item.counters.values.allSatisfy { $0.checkpoints.count == VersioningLimits.default.checkpointsPerCounterMax })
        #expect(quantities(cart) == ["mug": 100])
        try cart.apply(.setQuantity(sku: "mug", quantity: 2), at: tablet, nowMs: 60)
        cart.compact(stable: cart.context, nowMs: 100)
        #expect(cart.items["mug"]?.counters.isEmpty == true, "counters with nothing left to count are collected")
        #expect(quantities(cart) == ["mug": 2])
    }

    @Test func retiredReplicasAreForgottenOnlyWhenUnused() throws {
        var cart = CartState()
        let old = ReplicaID(node: 1, epoch: 1)
        try cart.apply(.add(sku: "a", quantity: 1, details: CartItemDetails()), at: old, nowMs: 1, id: "a")
        try cart.apply(.add(sku: "b", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 1, id: "b")
        cart.forgetRetiredReplicas([old])
        #expect(cart.context.replicas.contains(old), "item a still uses a dot of the old epoch")
        try cart.apply(.remove(sku: "a"), at: laptop, nowMs: 2, id: "c")
        cart.compact(stable: cart.context, nowMs: 100)
        cart.forgetRetiredReplicas([old])
        #expect(cart.context.replicas.contains(old), "the operation log still names it")
        cart.compact(stable: cart.context, nowMs: 10 * 60_000 + 2)
        cart.forgetRetiredReplicas([old])
        #expect(!cart.context.replicas.contains(old))
        #expect(quantities(cart) == ["b": 1])
    }
}
