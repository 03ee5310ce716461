import CartStorage
import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// The replica store: joins on write, refuses what cannot be stored, scans one partition, and
/// keeps every acknowledged write through simulated power loss.
@Suite struct ReplicaStoreTests {
    let phone = ReplicaID(node: 1, epoch: 1)
    let laptop = ReplicaID(node: 2, epoch: 1)

    func openEngine(_ fileSystem: any FileSystem) throws -> StorageEngine {
        var options = StorageOptions()
        options.fileSystem = fileSystem
        options.memtableBytes = 16 << 10
        options.backgroundMode = .manual
        return try StorageEngine.open("/db", options: options)
    }

    func cart(_ sku: String, _ quantity: Int64, at replica: ReplicaID, id: String) throws -> CartState {
        var cart = CartState()
        try cart.apply(.add(sku: sku, quantity: quantity, details: CartItemDetails(name: sku)), id: OperationID(id),
                       at: replica, issuedCounter: 0, nowMs: 1_000)
        return cart
    }

    /// A random cart operation on three SKUs.
    func operation(_ rng: inout SeededRandom) -> CartOperation {
        let sku = rng.pick(["A", "B", "C"])
        switch rng.below(8) {
        case 0..<3: return .add(sku: sku, quantity: Int64(1 + rng.below(3)), details: CartItemDetails(name: sku))
        case 3: return .changeQuantity(sku: sku, delta: 1)
        case 4: return .changeQuantity(sku: sku, delta: -1)
        case 5: return .setQuantity(sku: sku, quantity: Int64(rng.below(4)))
        case 6: return .remove(sku: sku)
        default: return .clear
        }
    }

    @Test func mergesJoinAndDuplicatesChangeNothing() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try openEngine(memory)
        let store = try ReplicaStore(engine: engine)
        let key = Array("cart:42".utf8)
        #expect(try store.read(key) == nil)
        let a = try cart("A", 2, at: phone, id: "p1"), b = try cart("B", 1, at: laptop, id: "l1")
        #expect(try store.merge(key, .cart(a)) == .cart(a))
        let both = try store.merge(key, .cart(b))
        #expect(both == .cart(a.merging(b)))
        #expect(try store.merge(key, .cart(a)) == both, "an old delivery changes nothing")
        #expect(try store.read(key) == both)
        // A cart and opaque siblings never merge: typed error, nothing stored.
        var siblings = SiblingSet()
        try siblings.write(Sibling(value: Array("x".utf8), timestampMs: 1), context: VersionVector(), at: phone, issuedCounter: 0)
        #expect(throws: ReplicaStoreError.self) { try store.merge(key, .siblings(siblings)) }
        #expect(try store.read(key) == both)
        // A failing update stores nothing and hands its failure back.
        struct Refused: Error, Equatable {}
        let outcome = try store.update(key) { _ in Result<StoredRecord, Refused>.failure(Refused()) }
        #expect(throws: Refused.self) { try outcome.get() }
        #expect(try store.read(key) == both)
        try engine.close()
        let reopened = try openEngine(memory)
        #expect(try ReplicaStore(engine: reopened).read(key) == both)
        try reopened.close()
    }

    @Test func updateStoresTheJoinAndRefusesWhatCannotBeStored() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try openEngine(memory)
        let store = try ReplicaStore(engine: engine)
        let key = Array("cart:9".utf8)
        let old = try cart("A", 1, at: phone, id: "p1")
        var newer = old
        try newer.apply(.add(sku: "B", quantity: 2, details: CartItemDetails(name: "B")), id: OperationID("p2"),
                        at: phone, issuedCounter: 1, nowMs: 2_000)
        try store.merge(key, .cart(newer))
        // A body returning an older state cannot make the replica lose what it holds.
        let outcome = try store.update(key) { _ in Result<StoredRecord, Never>.success(.cart(old)) }
        #expect(outcome == .success(.cart(newer)))
        #expect(try store.read(key) == .cart(newer))
        // Nor change its kind.
        #expect(throws: ReplicaStoreError.self) {
            try store.update(key) { _ in Result<StoredRecord, Never>.success(.siblings(SiblingSet())) }
        }
        // Keys past the engine's limit (less the 9-byte prefix) are a typed error.
        let long = [UInt8](repeating: 0x61, count: ReplicaStore.keyBytesMax + 1)
        do {
            _ = try store.read(long)
            Issue.record("a key over the limit was read")
        } catch {
            guard case .keyTooLong = error else { Issue.record("\(error)"); return }
        }
        #expect(try store.read([UInt8](repeating: 0x61, count: ReplicaStore.keyBytesMax)) == nil)
        try engine.close()
    }

    @Test func anEngineThatAcknowledgesUnsyncedWritesIsRefused() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        var options = StorageOptions()
        options.fileSystem = memory
        options.sync = .none
        let engine = try StorageEngine.open("/db", options: options)
        #expect(throws: ReplicaStore.ConfigurationError.self) { try ReplicaStore(engine: engine) }
        _ = try ReplicaStore(engine: engine, allowUnsyncedAcks: true)
        try engine.close()
    }

    @Test func aScanRefusesUnknownPartitionsAndMalformedKeys() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try openEngine(memory)
        let store = try ReplicaStore(engine: engine)
        let ring = try Ring(nodes: [NodeID(1)], partitionBits: 4)
        for partition in [-1, 16, Int.max] {
            do {
                try store.forEach(inPartition: partition, of: ring) { _, _ in true }
                Issue.record("partition \(partition) scanned")
            } catch {
                guard case .noSuchPartition = error else { Issue.record("\(error)"); continue }
            }
        }
        // A stored key of 4 bytes inside partition 0's range is corruption, not the end.
        try engine.put([0x00, 0x01, 0x02, 0x03], [0x00])
        do {
            try store.forEach(inPartition: 0, of: ring) { _, _ in true }
            Issue.record("a malformed key ended the scan silently")
        } catch {
            guard case .malformedStoredKey(0, _) = error else { Issue.record("\(error)"); return }
        }
        try engine.close()
    }

    @Test func unreadableBytesAreATypedErrorNamingTheKey() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try openEngine(memory)
        let key = Array("cart:7".utf8)
        try engine.put(StorageKey.encode(key), [0xFF, 0x01])
        let store = try ReplicaStore(engine: engine)
        do {
            _ = try store.read(key)
            Issue.record("read garbage without an error")
        } catch {
            guard case let .undecodable(name, _) = error else { Issue.record("\(error)"); return }
            #expect(name == "cart:7")
        }
        try engine.close()
    }

    @Test func aPartitionScanReturnsExactlyItsKeys() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try openEngine(memory)
        let store = try ReplicaStore(engine: engine)
        let ring = try Ring(nodes: [NodeID(1), NodeID(2), NodeID(3)], partitionBits: 4)
        var expected: [Int: Set<String>] = [:]
        for user in 0..<300 {
            let key = "cart:\(user)"
            try store.merge(Array(key.utf8), .cart(try cart("A", 1, at: phone, id: key)))
            expected[ring.partition(ofKey: Array(key.utf8)), default: []].insert(key)
        }
        try engine.flush()
        for partition in 0..<ring.partitionCount {
            var seen: [String] = []
            try store.forEach(inPartition: partition, of: ring) { key, record in
                if case .cart = record { seen.append(String(decoding: key, as: UTF8.self)) }
                return true
            }
            #expect(Set(seen) == expected[partition] ?? [], "partition \(partition)")
            #expect(seen.count == Set(seen).count)
        }
        try engine.close()
    }

    /// Power is cut at a random point while carts from three replicas are merged into 20 keys;
    /// after the simulated power loss and a reopen, every key holds at least the join of every
    /// merge that was acknowledged.
    @Test func everyAcknowledgedMergeSurvivesPowerLoss() throws {
        let seed = TestSeed.make("everyAcknowledgedMergeSurvivesPowerLoss")
        var acknowledged = 0, cut = 0
        for round in 0..<30 {
            var rng = SeededRandom(seed: seed &+ UInt64(round))
            let memory = MemoryFileSystem()
            try memory.createDirectory("/db")
            let faults = FaultInjectingFileSystem(wrapping: memory)
            let engine = try openEngine(faults)
            let store = try ReplicaStore(engine: engine)
            var model: [String: CartState] = [:]
            var replicas: [CartState] = Array(repeating: CartState(), count: 3)
            let cutAt = rng.below(150)
            for step in 0..<150 {
                if step == cutAt { faults.cutPower(afterOperations: rng.below(4)); cut += 1 }
                let index = rng.below(3)
                let replica = ReplicaID(node: UInt64(index + 1), epoch: 1)
                _ = try? replicas[index].apply(operation(&rng), id: OperationID("op-\(step)"),
                                           at: replica, issuedCounter: replicas[index].context.highestCounter(of: replica),
                                           nowMs: UInt64(1_000 + step))
                let key = "cart:\(rng.below(20))"
                if (try? store.merge(Array(key.utf8), .cart(replicas[index]))) != nil {
                    model[key] = (model[key] ?? CartState()).merging(replicas[index])
                    acknowledged += 1
                }
            }
            try? engine.close()
            _ = memory.powerLoss(seed: rng.next())
            let reopened = try openEngine(memory)
            let after = try ReplicaStore(engine: reopened)
            for (key, acked) in model {
                guard case let .cart(stored)? = try after.read(Array(key.utf8)) else {
                    Issue.record("round \(round): \(key) lost; \(TestSeed.repro(seed, "everyAcknowledgedMergeSurvivesPowerLoss"))")
                    continue
                }
                let covers = stored.merging(acked) == stored
                #expect(covers,
                        "round \(round): \(key) lost acknowledged units; \(TestSeed.repro(seed, "everyAcknowledgedMergeSurvivesPowerLoss"))")
            }
            try reopened.close()
        }
        print("replica-store power loss: 30 rounds, \(acknowledged) acknowledged merges checked, \(cut) power cuts")
        #expect(acknowledged > 1_000)
    }
}
