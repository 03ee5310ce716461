import CartStorage
import CartVersioning
import Testing
@testable import CartCluster

/// Hints: joined per (target, key), bounded in bytes and age per target, deleted only as
/// delivered, and durable across power loss.
@Suite struct HintStoreTests {
    let owner = NodeID(2)
    let replica = ReplicaID(node: 1, epoch: 1)

    func openEngine(_ fileSystem: MemoryFileSystem) throws -> StorageEngine {
        var options = StorageOptions()
        options.fileSystem = fileSystem
        options.backgroundMode = .manual
        return try StorageEngine.open("/db", options: options)
    }

    func value(_ byte: UInt8, counter: UInt64 = 0) throws -> StoredRecord {
        var set = SiblingSet()
        try set.write(Sibling(value: [UInt8](repeating: byte, count: 100), timestampMs: 1), context: VersionVector(),
                      at: replica, issuedCounter: counter)
        return .siblings(set)
    }

    @Test func hintsJoinPerKeyAndAreDeletedOnlyAsDelivered() throws {
        let engine = try openEngine(MemoryFileSystem())
        let hints = try HintStore(engine: engine)
        let first = try value(1)
        #expect(try hints.store(first, key: Array("k".utf8), for: owner, nowMs: 10) == .stored(new: true))
        #expect(try hints.store(first, key: Array("k".utf8), for: owner, nowMs: 20) == .stored(new: false))
        guard case var .siblings(set) = first else { return }
        try set.write(Sibling(value: [2], timestampMs: 2), context: VersionVector(), at: replica, issuedCounter: 1)
        #expect(try hints.store(.siblings(set), key: Array("k".utf8), for: owner, nowMs: 30) == .stored(new: false))
        let held = try #require(try hints.hint(for: owner, key: Array("k".utf8)))
        #expect(held.createdMs == 10, "the age counts from the first hint")
        #expect(held.record == first.merging(.siblings(set)))
        #expect(try !hints.remove(for: owner, key: Array("k".utf8), ifHolding: first), "it grew since: kept")
        #expect(hints.count == 1)
        #expect(try hints.remove(for: owner, key: Array("k".utf8), ifHolding: held.record))
        #expect(hints.count == 0 && hints.targets.isEmpty && hints.bytes(for: owner) == 0)
    }

    @Test func aTargetsHintsAreBoundedInBytesAndAge() throws {
        let engine = try openEngine(MemoryFileSystem())
        var limits = HintStore.Limits()
        limits.bytesPerTargetMax = 500
        limits.ageMaxMs = 1_000
        let hints = try HintStore(engine: engine, limits: limits)
        var stored = 0
        for i in 0..<10 {
            if case .stored = try hints.store(try value(UInt8(i)), key: Array("k\(i)".utf8), for: owner, nowMs: UInt64(i)) { stored += 1 }
        }
        #expect(stored >= 1 && stored < 10, "refused past 500 bytes")
        #expect(hints.bytes(for: owner) <= 500)
        #expect(try hints.store(try value(9), key: Array("other".utf8), for: NodeID(3), nowMs: 500) == .stored(new: true),
                "the bound is per target")
        #expect(hints.dropExpired(nowMs: 1_000).dropped.isEmpty)
        let dropped = hints.dropExpired(nowMs: 1_100).dropped
        #expect(dropped.count == stored, "the first target's hints are past 1 s; the other's are not")
        #expect(hints.count == 1)
    }

    @Test func hintsSurvivePowerLossAndTheIndexIsRebuilt() throws {
        let fileSystem = MemoryFileSystem()
        let engine = try openEngine(fileSystem)
        let hints = try HintStore(engine: engine)
        for i in 0..<20 {
            _ = try hints.store(try value(UInt8(i)), key: Array("k\(i)".utf8), for: NodeID(UInt64(2 + i % 3)), nowMs: UInt64(100 + i))
        }
        let bytes = hints.bytes(for: owner)
        fileSystem.powerLoss(seed: 7)
        let reopened = try HintStore(engine: try openEngine(fileSystem))
        #expect(reopened.count == 20 && reopened.targets == [NodeID(2), NodeID(3), NodeID(4)])
        #expect(reopened.bytes(for: owner) == bytes)
        #expect(try reopened.hint(for: NodeID(3), key: Array("k1".utf8))?.createdMs == 101)
    }
}
