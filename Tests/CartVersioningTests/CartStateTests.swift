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

    @Test func removeDropsOnlyObservedAddsAndConcurrentAddSurvivesWithItsOwnDelta() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 5, details: CartItemDetails(name: "Mug")), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.remove(sku: "mug"), at: phone, nowMs: 2)
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: 3)
        let merged = onPhone.merging(onLaptop)
        #expect(quantities(merged) == ["mug": 1], "the removal reset the 5 it saw; the concurrent +1 survives")
        #expect(merged.item("mug")?.name == "", "the observed name went with the removal")
        #expect(merged.item("mug")?.addedAtMs == 1, "the surviving contribution carries the incarnation's addedAt")
    }

    @Test func removedItemStaysRemovedAfterAnyMergeOrder() throws {
        var onPhone = CartState()
        try onPhone.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        let stale = onPhone
        try onPhone.apply(.remove(sku: "mug"), at: phone, nowMs: 2)
        #expect(onPhone.merging(stale).view.items.isEmpty)
        #expect(stale.merging(onPhone).view.items.isEmpty)
        #expect(onPhone.storedItemCount == 0, "no tombstone is kept")
    }

    @Test func removeWithClientContextSparesAddsTheClientDidNotSee() throws {
        var cart = CartState()
        try cart.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: phone, nowMs: 1)
        let seenByClient = cart.view.context
        try cart.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: laptop, nowMs: 2)
        try cart.apply(.remove(sku: "mug"), at: tablet, nowMs: 3, observed: seenByClient)
        #expect(quantities(cart) == ["mug": 2])
    }

    @Test func setQuantityIsRelativeToWhatTheClientObserved() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        let read = base.view.context
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.setQuantity(sku: "mug", quantity: 5), at: phone, nowMs: 2, observed: read)  // +3
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: 2)  // +1
        #expect(quantities(onPhone.merging(onLaptop)) == ["mug": 6])
        var merged = onPhone.merging(onLaptop)
        try merged.apply(.setQuantity(sku: "mug", quantity: 4), at: tablet, nowMs: 3, observed: read)
        // The client saw 2 and wants 4: +2 on top of the 6, unless that would be below 1.
        #expect(quantities(merged) == ["mug": 8])
        try merged.apply(.setQuantity(sku: "mug", quantity: 0), at: tablet, nowMs: 4)
        #expect(quantities(merged).isEmpty)
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

    @Test func concurrentDecrementsBelowZeroHideTheItemAndAnAddResetsIt() throws {
        var base = CartState()
        try base.apply(.add(sku: "mug", quantity: 2, details: CartItemDetails()), at: phone, nowMs: 1)
        var onPhone = base
        var onLaptop = base
        try onPhone.apply(.changeQuantity(sku: "mug", delta: -1), at: phone, nowMs: 2)
        try onLaptop.apply(.changeQuantity(sku: "mug", delta: -1), at: laptop, nowMs: 2)
        var merged = onPhone.merging(onLaptop)
        #expect(quantities(merged).isEmpty, "quantity 0 is not shown")
        try merged.apply(.add(sku: "mug", quantity: 1, details: CartItemDetails()), at: tablet, nowMs: 3)
        #expect(quantities(merged) == ["mug": 1], "an add on a hidden item starts from zero")
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
        var unseen = CartState()
        try unseen.apply(.add(sku: "x", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 1)
        #expect(throws: CartOperationError.observedContextNotCovered) {
            try cart.apply(.remove(sku: "mug"), at: phone, nowMs: 2, observed: unseen.context)
        }
        #expect(cart == before)
    }

    @Test func cartFullRefusesNewSKUsButNotExistingOnes() throws {
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
    }

    @Test func contributionsPerReplicaAreFolded() throws {
        var cart = CartState()
        for step in 0..<50 {
            try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: phone, nowMs: UInt64(step))
            try cart.apply(.changeQuantity(sku: "mug", delta: 1), at: laptop, nowMs: UInt64(step))
        }
        let item = try #require(cart.items["mug"])
        #expect(item.quantity.entries.count == 2 * VersioningLimits.default.quantityEntriesPerReplicaMax)
        #expect(quantities(cart) == ["mug": 100])
        #expect(cart.item("mug")?.addedAtMs == 0)
    }

    @Test func retiredReplicasAreForgottenOnlyWhenUnused() throws {
        var cart = CartState()
        let old = ReplicaID(node: 1, epoch: 1)
        try cart.apply(.add(sku: "a", quantity: 1, details: CartItemDetails()), at: old, nowMs: 1)
        try cart.apply(.add(sku: "b", quantity: 1, details: CartItemDetails()), at: laptop, nowMs: 1)
        cart.forgetRetiredReplicas([old])
        #expect(cart.context.replicas.contains(old), "item a still uses a dot of the old epoch")
        try cart.apply(.remove(sku: "a"), at: laptop, nowMs: 2)
        cart.forgetRetiredReplicas([old])
        #expect(!cart.context.replicas.contains(old))
        #expect(quantities(cart) == ["b": 1])
    }
}
