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

    @Test func writeWithReadContextOverwrites() {
        var set = SiblingSet()
        set.write(value("v1", 1), context: VersionVector(), at: a)
        set.write(value("v2", 2), context: set.context, at: a)
        #expect(texts(set) == ["v2"])
        #expect(set.context == VersionVector([a: 2]))
    }

    @Test func writeWithEmptyOrOldContextAddsASibling() {
        var set = SiblingSet()
        set.write(value("v1", 1), context: VersionVector(), at: a)
        let old = set.context
        set.write(value("v2", 2), context: old, at: a)
        set.write(value("v3", 3), context: old, at: a)  // stale context: v2 was not seen
        set.write(value("v4", 4), context: VersionVector(), at: b)  // no context at all
        #expect(texts(set) == ["v2", "v3", "v4"])
        set.write(value("v5", 5), context: set.context, at: b)  // saw everything
        #expect(texts(set) == ["v5"])
    }

    @Test func concurrentWritesOnTwoReplicasBecomeSiblingsAndConverge() {
        var onA = SiblingSet()
        var onB = SiblingSet()
        onA.write(value("x", 1), context: VersionVector(), at: a)
        onB.merge(onA)
        let read = onA.context
        onA.write(value("from-a", 2), context: read, at: a)
        onB.write(value("from-b", 2), context: read, at: b)
        #expect(onA.compare(onB) == .concurrent)
        let merged = onA.merging(onB)
        #expect(merged == onB.merging(onA))
        #expect(texts(merged) == ["from-a", "from-b"])
        var resolved = merged
        resolved.write(value("resolved", 3), context: merged.context, at: b)
        #expect(texts(resolved) == ["resolved"])
        #expect(merged.compare(resolved) == .before)
    }

    @Test func lastWriteWinsPicksGreatestTimestampThenReplica() {
        var onA = SiblingSet()
        var onB = SiblingSet()
        onA.writeLastWriteWins(value("a", 10), at: a)
        onB.writeLastWriteWins(value("b", 10), at: b)  // same timestamp: replica b > a wins
        let merged = onA.merging(onB)
        #expect(merged.lastWriteWinsWinner.map { String(decoding: $0.sibling.value, as: UTF8.self) } == "b")
        #expect(merged.resolvedVersions(policy: .lastWriteWins).count == 1)
        #expect(merged.resolvedVersions(policy: .siblings).count == 2)
        var next = merged
        next.writeLastWriteWins(value("c", 5), at: a)  // supersedes everything local, even a later timestamp
        #expect(texts(next) == ["c"])
    }

    @Test func deletionsReadAsDeleted() {
        var set = SiblingSet()
        #expect(set.readsAsDeleted)
        set.write(value("x", 1), context: VersionVector(), at: a)
        #expect(!set.readsAsDeleted)
        set.write(.deletion(timestampMs: 2), context: set.context, at: a)
        #expect(set.readsAsDeleted)
        #expect(set.siblingCount == 1)
    }

    @Test func siblingCapDropsOldestDeterministically() {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 3
        var set = SiblingSet()
        var dropped = 0
        // Timestamps deliberately out of order to check "oldest" is by timestamp.
        for (index, stamp) in [50, 10, 40, 20, 30].enumerated() {
            dropped += set.write(value("v\(index)-\(stamp)", UInt64(stamp)), context: VersionVector(),
                                 at: Generators.replica(index), limits: limits).droppedSiblingCount
        }
        #expect(set.siblingCount == 3)
        #expect(dropped == 2)
        #expect(texts(set) == ["v0-50", "v2-40", "v4-30"])
        // The drop is a domination: merging an older copy that still has the dropped values
        // does not bring them back.
        var older = SiblingSet()
        older.write(value("v1-10", 10), context: VersionVector(), at: Generators.replica(1), limits: limits)
        #expect(texts(set.merging(older, limits: limits)) == texts(set))
    }

    @Test func capNeverDropsTheWriteBeingAcknowledged() {
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 1
        var set = SiblingSet()
        set.write(value("new-clock", 100), context: VersionVector(), at: a, limits: limits)
        let outcome = set.write(value("old-clock", 1), context: VersionVector(), at: b, limits: limits)
        #expect(texts(set) == ["old-clock"])
        #expect(outcome.droppedSiblingCount == 1)
    }

    @Test func retiredEpochsAreForgottenOnlyWithoutLiveValues() {
        let oldEpoch = ReplicaID(node: 1, epoch: 1)
        let newEpoch = ReplicaID(node: 1, epoch: 2)
        var set = SiblingSet()
        set.write(value("x", 1), context: VersionVector(), at: oldEpoch)
        set.forgetRetiredReplicas([oldEpoch])
        #expect(set.clockEntryCount == 1, "an entry with a live value is data and is kept")
        set.write(value("y", 2), context: set.context, at: newEpoch)
        set.forgetRetiredReplicas([oldEpoch])
        #expect(set.clockEntryCount == 1)
        #expect(set.context == VersionVector([newEpoch: 1]))
        #expect(texts(set) == ["y"])
    }

    @Test func clockCapForgetsRetiredLookingEntriesFirst() {
        var limits = VersioningLimits()
        limits.clockEntriesMax = 3
        var set = SiblingSet()
        for epoch in UInt32(1)...4 {
            set.write(value("e\(epoch)", UInt64(epoch)), context: set.context, at: ReplicaID(node: 9, epoch: epoch), limits: limits)
        }
        set.write(value("other", 9), context: set.context, at: ReplicaID(node: 1, epoch: 1), limits: limits)
        #expect(set.clockEntryCount == 3)
        #expect(texts(set) == ["other"])
        #expect(set.context[ReplicaID(node: 9, epoch: 4)] == 1, "the newest epoch of node 9 is kept")
    }

    @Test func newEpochNeverReusesCounters() {
        // kv679: node 1 wrote v1, lost its disk and came back. With the same id it would issue
        // (1, counter 1) again and a replica holding the old v1 would think it already had it.
        let before = ReplicaID(node: 1, epoch: 1)
        let after = ReplicaID(node: 1, epoch: 2)
        var survivor = SiblingSet()
        survivor.write(value("v1", 1), context: VersionVector(), at: before)
        var restarted = SiblingSet()  // empty data directory, new epoch
        restarted.write(value("v2", 2), context: VersionVector(), at: after)
        #expect(texts(survivor.merging(restarted)) == ["v1", "v2"], "both writes survive as siblings")
    }
}
