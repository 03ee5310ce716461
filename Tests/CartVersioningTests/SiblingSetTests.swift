import Testing
@testable import CartVersioning

/// Scenarios of the DVVSet: overwrite, siblings, LWW, the cap and pruning.
@Suite struct SiblingSetTests {
    let a = Generators.replica(0)
    let b = Generators.replica(1)

    func value(_ text: String, _ timestampMs: UInt64) -> Sibling {
        Sibling(value: Array(text.utf8), timestampMs: timestampMs)
    }

    func texts(_ set: SiblingSet) -> [String] {
        set.versions.map { String(decoding: $0.sibling.value, as: UTF8.self) }.sorted()
    }

    @Test func writeWithReadContextOverwrites() throws {
        var set = SiblingSet()
        try set.write(value("v1", 1), context: VersionVector(), at: a)
        try set.write(value("v2", 2), context: set.context, at: a)
        #expect(texts(set) == ["v2"])
        #expect(set.context == VersionVector([a: 2]))
    }

    @Test func writeWithEmptyOrOldContextAddsASibling() throws {
        var set = SiblingSet()
        try set.write(value("v1", 1), context: VersionVector(), at: a)
        let old = set.context
        try set.write(value("v2", 2), context: old, at: a)
        try set.write(value("v3", 3), context: old, at: a)  // stale context: v2 was not seen
        try set.write(value("v4", 4), context: VersionVector(), at: b)  // no context at all
        #expect(texts(set) == ["v2", "v3", "v4"])
        try set.write(value("v5", 5), context: set.context, at: b)  // saw everything
        #expect(texts(set) == ["v5"])
    }

    @Test func concurrentWritesOnTwoReplicasBecomeSiblingsAndConverge() throws {
        var onA = SiblingSet()
        var onB = SiblingSet()
        try onA.write(value("x", 1), context: VersionVector(), at: a)
        onB.merge(onA)
        let read = onA.context
        try onA.write(value("from-a", 2), context: read, at: a)
        try onB.write(value("from-b", 2), context: read, at: b)
        #expect(onA.compare(onB) == .concurrent)
        let merged = onA.merging(onB)
        #expect(merged == onB.merging(onA))
        #expect(texts(merged) == ["from-a", "from-b"])
        var resolved = merged
        try resolved.write(value("resolved", 3), context: merged.context, at: b)
        #expect(texts(resolved) == ["resolved"])
        #expect(merged.compare(resolved) == .before)
    }

    @Test func lastWriteWinsPicksGreatestTimestampThenReplica() throws {
        var onA = SiblingSet()
        var onB = SiblingSet()
        try onA.writeLastWriteWins(value("a", 10), at: a)
        try onB.writeLastWriteWins(value("b", 10), at: b)  // same timestamp: replica b > a wins
        let merged = onA.merging(onB)
        #expect(merged.lastWriteWinsWinner.map { String(decoding: $0.sibling.value, as: UTF8.self) } == "b")
        #expect(merged.resolvedVersions(policy: .lastWriteWins).count == 1)
        #expect(merged.resolvedVersions(policy: .siblings).count == 2)
        var next = merged
        try next.writeLastWriteWins(value("c", 5), at: a)  // supersedes everything local, even a later timestamp
        #expect(texts(next) == ["c"])
    }

    @Test func deletionsReadAsDeleted() throws {
        var set = SiblingSet()
        #expect(set.readsAsDeleted)
        try set.write(value("x", 1), context: VersionVector(), at: a)
        #expect(!set.readsAsDeleted)
        try set.write(.deletion(timestampMs: 2), context: set.context, at: a)
        #expect(set.readsAsDeleted)
        #expect(set.siblingCount == 1)
    }

    @Test func siblingCapDropsOldestDeterministically() throws {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 3
        var set = SiblingSet()
        var dropped = 0
        // Timestamps deliberately out of order to check "oldest" is by timestamp.
        for (index, stamp) in [50, 10, 40, 20, 30].enumerated() {
            dropped += try set.write(value("v\(index)-\(stamp)", UInt64(stamp)), context: VersionVector(),
                                     at: Generators.replica(index), limits: limits).droppedSiblingCount
        }
        #expect(set.siblingCount == 3)
        #expect(dropped == 2)
        #expect(texts(set) == ["v0-50", "v2-40", "v4-30"])
        // The drop is a domination: merging an older copy that still has the dropped values
        // does not bring them back.
        var older = SiblingSet()
        try older.write(value("v1-10", 10), context: VersionVector(), at: Generators.replica(1), limits: limits)
        #expect(texts(set.merging(older)) == texts(set))
    }

    @Test func capNeverDropsTheWriteBeingAcknowledged() throws {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 1
        var set = SiblingSet()
        try set.write(value("new-clock", 100), context: VersionVector(), at: a, limits: limits)
        let outcome = try set.write(value("old-clock", 1), context: VersionVector(), at: b, limits: limits)
        #expect(texts(set) == ["old-clock"])
        #expect(outcome.droppedSiblingCount == 1)
    }

    @Test func retiredEpochsAreForgottenOnlyWithoutLiveValues() throws {
        let oldEpoch = ReplicaID(node: 1, epoch: 1)
        let newEpoch = ReplicaID(node: 1, epoch: 2)
        var set = SiblingSet()
        try set.write(value("x", 1), context: VersionVector(), at: oldEpoch)
        set.forgetRetiredReplicas([oldEpoch])
        #expect(set.clockEntryCount == 1, "an entry with a live value is data and is kept")
        try set.write(value("y", 2), context: set.context, at: newEpoch)
        set.forgetRetiredReplicas([oldEpoch])
        #expect(set.clockEntryCount == 1)
        #expect(set.context == VersionVector([newEpoch: 1]))
        #expect(texts(set) == ["y"])
    }

    @Test func newEpochNeverReusesCounters() throws {
        // kv679: node 1 wrote v1, lost its disk and came back. With the same id it would issue
        // (1, counter 1) again and a replica holding the old v1 would think it already had it.
        let before = ReplicaID(node: 1, epoch: 1)
        let after = ReplicaID(node: 1, epoch: 2)
        var survivor = SiblingSet()
        try survivor.write(value("v1", 1), context: VersionVector(), at: before)
        var restarted = SiblingSet()  // empty data directory, new epoch
        try restarted.write(value("v2", 2), context: VersionVector(), at: after)
        #expect(texts(survivor.merging(restarted)) == ["v1", "v2"], "both writes survive as siblings")
    }

    // MARK: - Issue 9, finding 7: drops reported, caps order-independent

    /// Twenty siblings on each of two replicas: the old merge capped at 32 and lost 8 writes
    /// without a word. Now the merge keeps all 40; the next write applies the cap and says how
    /// many it dropped.
    @Test func mergeNeverDropsAndTheNextWriteReportsTheCap() throws {
        var onA = SiblingSet()
        var onB = SiblingSet()
        for index in 0..<20 {
            try onA.write(value("a\(index)", UInt64(100 + index)), context: VersionVector(), at: a)
            try onB.write(value("b\(index)", UInt64(200 + index)), context: VersionVector(), at: b)
        }
        let merged = onA.merging(onB)
        #expect(merged.siblingCount == 40, "a merge is a pure join")
        #expect(try RecordCodec.decode(RecordCodec.encode(.siblings(merged))) == .siblings(merged), "and it is storable")
        var next = merged
        let outcome = try next.write(value("c", 300), context: VersionVector(), at: a)
        #expect(outcome.droppedSiblingCount == 9, "40 + 1 - 32")
        #expect(next.siblingCount == 32)
        #expect(!texts(next).contains("a0") && texts(next).contains("c"), "the oldest went, the new write stayed")
    }

    /// Which siblings survive depends only on the state being written, never on the order in
    /// which it was merged, even when wall clocks go backwards.
    @Test func capSurvivorsDoNotDependOnMergeOrder() throws {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 3
        let writers = (0..<5).map { Generators.replica($0) }
        var states: [SiblingSet] = []
        for (index, replica) in writers.enumerated() {
            var state = SiblingSet()
            // Clocks going backwards: later replicas have earlier timestamps.
            try state.write(value("w\(index)", UInt64(50 - index * 10)), context: VersionVector(), at: replica, limits: limits)
            states.append(state)
        }
        var results: Set<[String]> = []
        var dropped: Set<Int> = []
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [3, 4, 0, 2, 1]] {
            var joined = SiblingSet()
            for index in order { joined.merge(states[index]) }
            let outcome = try joined.write(value("new", 60), context: VersionVector(), at: writers[0], limits: limits)
            results.insert(texts(joined))
            dropped.insert(outcome.droppedSiblingCount)
        }
        #expect(results.count == 1, "\(results)")
        #expect(dropped == [3])
    }

    /// A write's byte budget: the oldest siblings go first; a value larger than the budget alone
    /// is refused.
    @Test func writeByteBudgetDropsOldestAndRefusesHugeValues() throws {
        var limits = VersioningLimits()
        limits.siblingBytesPerWriteMax = 100
        var set = SiblingSet()
        for index in 0..<4 {
            try set.write(Sibling(value: [UInt8](repeating: UInt8(index), count: 40), timestampMs: UInt64(index)),
                          context: VersionVector(), at: Generators.replica(index), limits: limits)
        }
        #expect(set.siblingCount == 2, "each sibling takes 43 bytes: two fit in 100")
        #expect(set.versions.map(\.sibling.timestampMs).sorted() == [2, 3])
        #expect(throws: SiblingWriteError.valueTooLarge(bytes: 101, bytesMax: 100)) {
            try set.write(Sibling(value: [UInt8](repeating: 9, count: 101), timestampMs: 9), context: VersionVector(), at: a, limits: limits)
        }
    }

    // MARK: - Issue 9, finding 8: contexts naming unissued events, counter reuse, overflow

    /// A context naming events this replica has not seen would mark as dead versions it never
    /// held, so later acknowledged writes would disappear: refused.
    @Test func contextNamingUnseenEventsIsRefused() throws {
        var set = SiblingSet()
        try set.write(value("v1", 1), context: VersionVector(), at: a)
        let before = set
        let forged = VersionVector([a: 5])
        #expect(throws: SiblingWriteError.contextNotCovered) { try set.write(value("v2", 2), context: forged, at: a) }
        #expect(throws: SiblingWriteError.contextNotCovered) {
            try set.writeLastWriteWins(value("v2", 2), context: forged, at: a, issuedCounter: 1)
        }
        #expect(throws: SiblingWriteError.contextNotCovered) {
            try set.write(value("v2", 2), context: VersionVector([b: 1]), at: a)
        }
        #expect(set == before)
    }

    /// A coordinator whose state lacks its own earlier write would issue the same dot twice (and
    /// a replica holding the first would drop the second as already seen): refused.
    @Test func stateMissingOwnWritesIsRefused() throws {
        var local = SiblingSet()
        try local.write(value("v1", 1), context: VersionVector(), at: a)
        var stale = SiblingSet()
        #expect(throws: SiblingWriteError.missingOwnWrites(replica: a, seen: 0, issued: 1)) {
            try stale.write(value("v2", 2), context: VersionVector(), at: a, issuedCounter: local.context[a])
        }
        stale.merge(local)
        let outcome = try stale.write(value("v2", 2), context: VersionVector(), at: a, issuedCounter: local.context[a])
        #expect(outcome.dot == Dot(replica: a, counter: 2))
    }

    @Test func counterOverflowAndClockCapAreTypedErrors() throws {
        var limits = VersioningLimits()
        limits.counterMax = 2
        limits.clockEntriesMax = 2
        var set = SiblingSet()
        try set.write(value("1", 1), context: VersionVector(), at: a, limits: limits)
        try set.write(value("2", 2), context: set.context, at: a, limits: limits)
        #expect(throws: SiblingWriteError.counterExhausted(a)) {
            try set.write(value("3", 3), context: set.context, at: a, limits: limits)
        }
        try set.write(value("b", 4), context: VersionVector(), at: b, limits: limits)
        #expect(throws: SiblingWriteError.tooManyReplicas(max: 2)) {
            try set.write(value("c", 5), context: VersionVector(), at: Generators.replica(2), limits: limits)
        }
        #expect(set.siblingCount == 2)
    }
}
