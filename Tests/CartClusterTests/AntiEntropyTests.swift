import CartStorage
import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// Merkle anti-entropy: the tree's shape arithmetic, the tree's XOR bookkeeping, the tree a
/// `ReplicaStore` keeps on every write (against rescans, an independent model, delivery order,
/// a write of unknown outcome and a reopen), and the exchange between `ClusterNode`s (it
/// converges, then costs no keys; it never pushes a key to a node that is not its replica; it
/// ignores malformed peer input).
@Suite struct AntiEntropyTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    // MARK: - Helpers

    /// One record delivered to a store: a key and a replica's state of it.
    struct Delivery {
        let key: [UInt8]
        let record: StoredRecord
    }

    static func openEngine(_ fileSystem: any FileSystem, memtableBytes: Int? = nil) throws -> StorageEngine {
        var options = StorageOptions()
        options.fileSystem = fileSystem
        if let memtableBytes { options.memtableBytes = memtableBytes }
        options.backgroundMode = .manual
        options.sync = .always
        options.logger.logLevel = .critical
        return try StorageEngine.open("/db", options: options)
    }

    static func memory() throws -> MemoryFileSystem {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        return memory
    }

    static func rebuildAll(_ store: ReplicaStore) throws {
        for partition in 0..<store.treeShape.partitionCount {
            let installed = try store.rebuildTree(partition: partition)
            #expect(installed, "partition \(partition): a rebuild with no write under way was discarded")
        }
    }

    /// Every leaf of `tree`, in global leaf order.
    static func leaves(_ tree: MerkleTree) -> [UInt64] {
        let shape = tree.shape
        var leaves: [UInt64] = []
        leaves.reserveCapacity(shape.leafCount)
        for partition in 0..<shape.partitionCount {
            for leaf in 0..<shape.leavesPerPartition { leaves.append(tree.leaf(partition: partition, leaf)) }
        }
        return leaves
    }

    static func partition(of key: [UInt8], in shape: MerkleTree.Shape) -> Int {
        shape.partition(ofLeaf: shape.leaf(of: RingToken.of(key)))
    }

    /// The leaves an independent model gives: every stored data entry's hash XORed into the leaf
    /// of the token its stored key carries (one unbounded engine scan of the data namespace).
    static func modelLeaves(_ engine: StorageEngine, shape: MerkleTree.Shape) throws -> (leaves: [UInt64], entries: [(stored: [UInt8], value: [UInt8])]) {
        var leaves = [UInt64](repeating: 0, count: shape.leafCount)
        var entries: [(stored: [UInt8], value: [UInt8])] = []
        let iterator = try engine.scan(from: [StorageKey.dataNamespace], to: [StorageKey.dataNamespace + 1])
        while let entry = try iterator.nextEntry() {
            let token = entry.key.dropFirst().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            leaves[shape.leaf(of: token)] ^= MerkleTree.hash(storedKey: entry.key, value: entry.value)
            entries.append((stored: entry.key, value: entry.value))
        }
        return (leaves, entries)
    }

    static func cart(_ sku: String, _ quantity: Int64, at replica: ReplicaID, id: String) throws -> StoredRecord {
        var cart = CartState()
        try cart.apply(.add(sku: sku, quantity: quantity, details: CartItemDetails(name: sku)), id: OperationID(id),
                       at: replica, issuedCounter: 0, nowMs: 1_000)
        return .cart(cart)
    }

    static func siblings(_ value: String, at replica: ReplicaID) throws -> StoredRecord {
        var set = SiblingSet()
        try set.write(Sibling(value: Array(value.utf8), timestampMs: 1_000), context: VersionVector(), at: replica, issuedCounter: 0)
        return .siblings(set)
    }

    /// `count` deliveries over `keys` (cart records for `cart:` keys, sibling sets for the
    /// others), from three replicas that write, sometimes learn each other's state, and whose
    /// older records are sometimes delivered again (a merge that changes nothing).
    static func deliveries(seed: UInt64, keys: [[UInt8]], count: Int) -> [Delivery] {
        var rng = SeededRandom(seed: seed)
        var carts: [[UInt8]: [CartState]] = [:]
        var sets: [[UInt8]: [SiblingSet]] = [:]
        var out: [Delivery] = []
        let cartPrefix = Array("cart:".utf8)
        for step in 0..<count {
            if !out.isEmpty && rng.chance(15) {
                out.append(rng.pick(out))
                continue
            }
            let key = rng.pick(keys)
            let index = rng.below(3)
            let other = (index + 1 + rng.below(2)) % 3
            let replica = ReplicaID(node: UInt64(index + 1), epoch: 1)
            let learns = rng.chance(20)
            if key.starts(with: cartPrefix) {
                var states = carts[key] ?? Array(repeating: CartState(), count: 3)
                var state = states[index]
                if learns { state.merge(states[other]) }
                let op = ReplicaStoreTests().operation(&rng)
                let issued = state.context.highestCounter(of: replica)
                _ = try? state.apply(op, id: OperationID("op-\(step)"), at: replica, issuedCounter: issued, nowMs: UInt64(1_000 + step))
                states[index] = state
                carts[key] = states
                out.append(Delivery(key: key, record: .cart(states[index])))
            } else {
                var states = sets[key] ?? Array(repeating: SiblingSet(), count: 3)
                var state = states[index]
                if learns { state.merge(states[other]) }
                let context = rng.chance(50) ? state.context : VersionVector()
                let value = rng.bytes(1 + rng.below(12))
                let issued = state.context[replica]
                _ = try? state.write(Sibling(value: value, timestampMs: UInt64(1_000 + step)), context: context,
                                     at: replica, issuedCounter: issued)
                states[index] = state
                sets[key] = states
                out.append(Delivery(key: key, record: .siblings(states[index])))
            }
        }
        return out
    }

    /// Three `cart:` keys whose tokens share one leaf of `shape` (so that a leaf XORs several keys).
    static func collidingKeys(_ shape: MerkleTree.Shape) -> [[UInt8]]? {
        var byLeaf: [Int: [[UInt8]]] = [:]
        for i in 0..<20_000 {
            let key = Array("cart:c\(i)".utf8)
            let leaf = shape.leaf(of: RingToken.of(key))
            byLeaf[leaf, default: []].append(key)
            if byLeaf[leaf]!.count == 3 { return byLeaf[leaf] }
        }
        return nil
    }

    static func sends(_ effects: [NodeEffect]) -> [(message: ClusterMessage, to: NodeID)] {
        effects.compactMap { effect -> (message: ClusterMessage, to: NodeID)? in
            if case let .send(message, to) = effect { return (message, to) }
            return nil
        }
    }

    static func text(_ key: [UInt8]) -> String { String(decoding: key, as: UTF8.self) }

    // MARK: - 1. Shape arithmetic

    /// Problems with how `shape`'s levels tile a partition's leaves and children tile their
    /// parent's leaves.
    static func tilingProblems(_ shape: MerkleTree.Shape) -> [String] {
        var problems: [String] = []
        let count = shape.leavesPerPartition
        if shape.nodeCount(level: 0) != 1 { problems.append("\(shape): \(shape.nodeCount(level: 0)) roots") }
        if shape.nodeCount(level: shape.leafLevel) != count {
            problems.append("\(shape): \(shape.nodeCount(level: shape.leafLevel)) nodes at the leaf level, \(count) leaves")
        }
        if shape.leafLevel > 0 && shape.nodeCount(level: shape.leafLevel - 1) >= count {
            problems.append("\(shape): level \(shape.leafLevel - 1) already has every leaf")
        }
        if shape.contains(level: shape.leafLevel + 1, index: 0) || shape.contains(level: -1, index: 0) {
            problems.append("\(shape): a level outside 0…\(shape.leafLevel) is contained")
        }
        for level in 0...shape.leafLevel {
            let nodes = shape.nodeCount(level: level)
            if shape.contains(level: level, index: nodes) || shape.contains(level: level, index: -1) {
                problems.append("\(shape): level \(level) contains an index outside 0..<\(nodes)")
            }
            var next = 0
            for index in 0..<nodes {
                let leaves = shape.leaves(level: level, index: index)
                if leaves.lowerBound != next || leaves.isEmpty {
                    problems.append("\(shape): level \(level) node \(index) covers \(leaves), expected from \(next)")
                }
                next = leaves.upperBound
            }
            if next != count { problems.append("\(shape): level \(level) covers 0..<\(next), not 0..<\(count)") }
            guard level < shape.leafLevel else { continue }
            let ratio = shape.nodeCount(level: level + 1) / nodes
            if !(2...(1 << MerkleTree.Shape.fanoutBits)).contains(ratio) {
                problems.append("\(shape): fan-out \(ratio) from level \(level)")
            }
            var nextChild = 0
            for index in 0..<nodes {
                let leaves = shape.leaves(level: level, index: index)
                let children = shape.children(level: level, index: index)
                if children.lowerBound != nextChild || children.isEmpty {
                    problems.append("\(shape): children of \(level)/\(index) are \(children), expected from \(nextChild)")
                }
                nextChild = children.upperBound
                guard children.allSatisfy({ shape.contains(level: level + 1, index: $0) }) else {
                    problems.append("\(shape): children of \(level)/\(index) (\(children)) outside level \(level + 1)")
                    continue
                }
                let covered = children.map { shape.leaves(level: level + 1, index: $0) }
                let contiguous = zip(covered, covered.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }
                if !contiguous || covered.first?.lowerBound != leaves.lowerBound || covered.last?.upperBound != leaves.upperBound {
                    problems.append("\(shape): children of \(level)/\(index) cover \(covered), the node covers \(leaves)")
                }
            }
            if nextChild != shape.nodeCount(level: level + 1) {
                problems.append("\(shape): children of level \(level) reach \(nextChild) of \(shape.nodeCount(level: level + 1))")
            }
        }
        return Array(problems.prefix(10))
    }

    /// Problems with `shape`'s token ranges: adjacent, equal-width, tiling the token space and
    /// each partition's ring range; both ends of each map back to the leaf.
    static func tokenRangeProblems(_ shape: MerkleTree.Shape) throws -> [String] {
        let ring = try Ring(nodes: [NodeID(1)], partitionBits: shape.partitionBits)
        var problems: [String] = []
        var expectedLower: UInt64 = 0
        let width = UInt64.max >> UInt64(shape.leafBits)
        for partition in 0..<shape.partitionCount {
            let ringRange = ring.tokenRange(ofPartition: partition)
            for leaf in 0..<shape.leavesPerPartition {
                let range = shape.tokenRange(partition: partition, leaf: leaf)
                let global = partition * shape.leavesPerPartition + leaf
                if range.lowerBound != expectedLower {
                    problems.append("leaf \(partition)/\(leaf) starts at \(range.lowerBound), expected \(expectedLower)")
                }
                if range.upperBound - range.lowerBound != width {
                    problems.append("leaf \(partition)/\(leaf) is \(range.upperBound - range.lowerBound) wide, expected \(width)")
                }
                if leaf == 0 && range.lowerBound != ringRange.lowerBound {
                    problems.append("partition \(partition) leaves start at \(range.lowerBound), the ring's at \(ringRange.lowerBound)")
                }
                if leaf == shape.leavesPerPartition - 1 && range.upperBound != ringRange.upperBound {
                    problems.append("partition \(partition) leaves end at \(range.upperBound), the ring's at \(ringRange.upperBound)")
                }
                for token in [range.lowerBound, range.upperBound, range.lowerBound + width / 2] {
                    if shape.leaf(of: token) != global { problems.append("token \(token) of leaf \(global) maps to \(shape.leaf(of: token))") }
                    if ring.partition(of: token) != partition { problems.append("token \(token) of partition \(partition) is the ring's \(ring.partition(of: token))") }
                }
                if shape.partition(ofLeaf: global) != partition {
                    problems.append("leaf \(global) is in partition \(shape.partition(ofLeaf: global)), expected \(partition)")
                }
                expectedLower = range.upperBound &+ 1
            }
        }
        if expectedLower != 0 { problems.append("the last leaf ends at \(expectedLower &- 1), not UInt64.max") }
        return Array(problems.prefix(10))
    }

    @Test func shapeLevelsTileEveryPartitionAndLeavesTileTheTokenSpace() throws {
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        #expect(shape.partitionCount == 16 && shape.leafCount == 1_024 && shape.leavesPerPartition == 64)
        #expect(shape.leafLevel == 2)
        #expect((0...shape.leafLevel).map { shape.nodeCount(level: $0) } == [1, 16, 64])
        #expect(shape.leaves(level: 1, index: 3) == 12..<16)
        #expect(shape.children(level: 0, index: 0) == 0..<16)
        #expect(shape.children(level: 1, index: 15) == 60..<64)
        #expect(Self.tilingProblems(shape) == [])
        #expect(try Self.tokenRangeProblems(shape) == [])

        // Other shapes: one leaf per partition, a level of 2, levels that are and are not
        // multiples of the fan-out, the default, the largest.
        for (partitionBits, leafBits) in [(4, 4), (4, 5), (4, 8), (4, 9), (6, 12), (5, 18), (10, 16), (10, 23), (16, 16), (16, 24)] {
            let other = try MerkleTree.Shape(partitionBits: partitionBits, leafBits: leafBits)
            #expect(other.leafLevel == (leafBits - partitionBits + 3) / 4, "\(other)")
            #expect(Self.tilingProblems(other) == [], "\(other)")
        }
        #expect(try Self.tokenRangeProblems(MerkleTree.Shape(partitionBits: 6, leafBits: 12)) == [])
        #expect(try Self.tokenRangeProblems(MerkleTree.Shape(partitionBits: 4, leafBits: 4)) == [])
        let defaultShape = try MerkleTree.Shape(partitionBits: 10, leafBits: 16)
        #expect(MerkleTree.Shape.default == defaultShape)
        #expect(MerkleTree.Shape.standard(partitionBits: 6).leafBits == 12)
    }

    @Test func shapeRefusesLeafBitsOutsideItsRange() throws {
        #expect(throws: MerkleTree.Shape.Invalid.leafBits(3, partitionBits: 4)) {
            _ = try MerkleTree.Shape(partitionBits: 4, leafBits: 3)
        }
        #expect(throws: MerkleTree.Shape.Invalid.leafBits(9, partitionBits: 10)) {
            _ = try MerkleTree.Shape(partitionBits: 10, leafBits: 9)
        }
        #expect(throws: MerkleTree.Shape.Invalid.leafBits(25, partitionBits: 4)) {
            _ = try MerkleTree.Shape(partitionBits: 4, leafBits: 25)
        }
        #expect(throws: MerkleTree.Shape.Invalid.self) { _ = try MerkleTree.Shape(partitionBits: 4, leafBits: -1) }
        // Partition bits the ring does not support.
        #expect(throws: MerkleTree.Shape.Invalid.self) { _ = try MerkleTree.Shape(partitionBits: 3, leafBits: 10) }
        #expect(throws: MerkleTree.Shape.Invalid.self) { _ = try MerkleTree.Shape(partitionBits: 17, leafBits: 24) }
        // The bounds themselves are accepted.
        _ = try MerkleTree.Shape(partitionBits: 4, leafBits: 4)
        _ = try MerkleTree.Shape(partitionBits: 4, leafBits: 24)
        _ = try MerkleTree.Shape(partitionBits: 16, leafBits: 24)
    }

    // MARK: - 2. The tree's bookkeeping

    @Test func treeIgnoresUpdatesWhileUnbuiltAndUndoesThemOnceBuilt() throws {
        let name = "treeIgnoresUpdatesWhileUnbuiltAndUndoesThemOnceBuilt"
        let seed = TestSeed.make(name)
        let repro = TestSeed.repro(seed, name)
        var rng = SeededRandom(seed: seed)
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        var tree = MerkleTree(shape: shape)
        #expect(tree.builtCount == 0 && !tree.isBuilt(5) && tree.checkInvariants() == nil)

        let token = shape.tokenRange(partition: 5, leaf: 17).lowerBound + 12_345
        #expect(shape.leaf(of: token) == 5 * 64 + 17)
        let h = rng.next() | 1
        tree.update(token: token, removing: 0, adding: h)
        #expect(tree.leaf(partition: 5, 17) == 0 && tree.root(partition: 5) == 0, "an update to an unbuilt partition was kept; \(repro)")
        #expect(tree.checkInvariants() == nil)

        let installed = (0..<shape.leavesPerPartition).map { _ in rng.next() }
        let root = installed.reduce(0, ^)
        tree.install(partition: 5, leaves: installed)
        #expect(tree.isBuilt(5) && tree.builtCount == 1 && tree.checkInvariants() == nil)
        #expect(tree.root(partition: 5) == root && tree.leaf(partition: 5, 17) == installed[17], "\(repro)")
        tree.install(partition: 5, leaves: installed)
        #expect(tree.builtCount == 1, "installing a built partition again counted it twice")

        tree.update(token: token, removing: 0, adding: h)
        #expect(tree.leaf(partition: 5, 17) == installed[17] ^ h && tree.root(partition: 5) == root ^ h, "\(repro)")
        // Replacing the entry's hash, then removing it, restores the leaf and the root.
        let h2 = rng.next() | 1
        tree.update(token: token, removing: h, adding: h2)
        #expect(tree.leaf(partition: 5, 17) == installed[17] ^ h2, "\(repro)")
        tree.update(token: token, removing: h2, adding: 0)
        #expect(tree.root(partition: 5) == root && tree.leaf(partition: 5, 17) == installed[17], "\(repro)")
        // Only leaf 17 of partition 5 ever moved.
        for leaf in 0..<shape.leavesPerPartition { #expect(tree.leaf(partition: 5, leaf) == installed[leaf], "leaf \(leaf); \(repro)") }
        // An update to another, unbuilt partition changes nothing anywhere.
        tree.update(token: shape.tokenRange(partition: 6, leaf: 0).upperBound, removing: 0, adding: h)
        #expect(tree.root(partition: 6) == 0 && tree.root(partition: 5) == root && tree.checkInvariants() == nil)

        // Invalidate zeroes and unbuilds, once.
        tree.invalidate(partition: 5)
        #expect(!tree.isBuilt(5) && tree.builtCount == 0 && tree.root(partition: 5) == 0)
        #expect((0..<shape.leavesPerPartition).allSatisfy { tree.leaf(partition: 5, $0) == 0 })
        tree.invalidate(partition: 5)
        #expect(tree.builtCount == 0 && tree.checkInvariants() == nil)
        tree.update(token: token, removing: 0, adding: h)
        #expect(tree.root(partition: 5) == 0 && tree.checkInvariants() == nil, "an update after invalidate was kept")
    }

    @Test func treeUpdatesCommuteAndInteriorHashesXorTheirLeaves() throws {
        let name = "treeUpdatesCommuteAndInteriorHashesXorTheirLeaves"
        let seed = TestSeed.make(name)
        let repro = TestSeed.repro(seed, name)
        var rng = SeededRandom(seed: seed)
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        let count = shape.leavesPerPartition
        var a = MerkleTree(shape: shape), b = MerkleTree(shape: shape)
        for partition in 0..<shape.partitionCount {
            a.install(partition: partition, leaves: Array(repeating: 0, count: count))
            b.install(partition: partition, leaves: Array(repeating: 0, count: count))
        }
        #expect(a.builtCount == shape.partitionCount && a.checkInvariants() == nil)

        // 200 adds over 4 partitions × 8 leaves: most leaves take several entries.
        let width = UInt64.max >> UInt64(shape.leafBits)
        var adds: [(token: UInt64, hash: UInt64)] = []
        var model = [UInt64](repeating: 0, count: shape.leafCount)
        for _ in 0..<200 {
            let range = shape.tokenRange(partition: 4 * rng.below(4) + 1, leaf: rng.below(8) * 7)
            let token = range.lowerBound + rng.next() % (width + 1)
            let hash = rng.next()
            adds.append((token: token, hash: hash))
            model[shape.leaf(of: token)] ^= hash
        }
        for add in adds { a.update(token: add.token, removing: 0, adding: add.hash) }
        for add in adds.shuffled(using: &rng) { b.update(token: add.token, removing: 0, adding: add.hash) }
        #expect(a.checkInvariants() == nil && b.checkInvariants() == nil)
        for partition in 0..<shape.partitionCount {
            #expect(a.root(partition: partition) == b.root(partition: partition), "partition \(partition); \(repro)")
        }
        #expect(Self.leaves(a) == model, "\(repro)")
        #expect(Self.leaves(b) == model, "\(repro)")

        // Every interior node's hash is the XOR of the leaves it covers.
        var problems: [String] = []
        for partition in 0..<shape.partitionCount {
            for level in 0...shape.leafLevel {
                for index in 0..<shape.nodeCount(level: level) {
                    let expected = shape.leaves(level: level, index: index).reduce(UInt64(0)) { $0 ^ model[partition * count + $1] }
                    if a.hash(partition: partition, level: level, index: index) != expected {
                        problems.append("\(partition)/\(level)/\(index)")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "interior hashes that are not their leaves' XOR: \(problems.prefix(8)); \(repro)")

        // Removing every entry, in a third order, leaves every leaf 0.
        for add in adds.shuffled(using: &rng) { b.update(token: add.token, removing: add.hash, adding: 0) }
        #expect(Self.leaves(b).allSatisfy { $0 == 0 }, "\(repro)")

        // Invalidating one partition zeroes it and leaves the others.
        a.invalidate(partition: 5)
        #expect(!a.isBuilt(5) && a.builtCount == shape.partitionCount - 1 && a.checkInvariants() == nil)
        var expected = model
        for leaf in 5 * count..<6 * count { expected[leaf] = 0 }
        #expect(Self.leaves(a) == expected, "\(repro)")
        // An add into it is ignored; reinstalling counts it built again.
        a.update(token: shape.tokenRange(partition: 5, leaf: 7).lowerBound, removing: 0, adding: 99)
        #expect(a.root(partition: 5) == 0)
        a.install(partition: 5, leaves: Array(model[5 * count..<6 * count]))
        #expect(a.builtCount == shape.partitionCount && Self.leaves(a) == model && a.checkInvariants() == nil)
    }

    // MARK: - 3. The store's tree

    @Test func storeTreeMatchesARescanAndDoesNotDependOnDeliveryOrder() throws {
        let name = "storeTreeMatchesARescanAndDoesNotDependOnDeliveryOrder"
        let seed = TestSeed.make(name)
        let repro = TestSeed.repro(seed, name)
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        let colliding = try #require(Self.collidingKeys(shape))
        let keys = (0..<60).map { Array("cart:t\($0)".utf8) } + (0..<60).map { Array("kv:t\($0)".utf8) } + colliding
        var deliveries = Self.deliveries(seed: seed, keys: keys, count: 600)
        // Every colliding key is written at least once.
        for (index, key) in colliding.enumerated() {
            deliveries.append(Delivery(key: key, record: try Self.cart("A", Int64(index + 1), at: ReplicaID(node: 9, epoch: 1), id: "c\(index)")))
        }
        var rng = SeededRandom(seed: seed ^ 0x5A5A_5A5A)

        // Store a: every tree built first; every fifth delivery through `update`.
        let engineA = try Self.openEngine(try Self.memory(), memtableBytes: 16 << 10)
        let a = try ReplicaStore(engine: engineA, treeShape: shape)
        try Self.rebuildAll(a)
        for (index, delivery) in deliveries.enumerated() {
            if index % 5 == 0 {
                _ = try a.update(delivery.key) { _ in Result<StoredRecord, Never>.success(delivery.record) }
            } else {
                try a.merge(delivery.key, delivery.record)
            }
            if index == deliveries.count / 2 { #expect(try a.verifyTree() == nil, "halfway; \(repro)") }
        }
        // A merge that changes nothing (an old record again) moves no leaf.
        let before = Self.leaves(a.treeSnapshot)
        for delivery in deliveries.prefix(40) { try a.merge(delivery.key, delivery.record) }
        #expect(Self.leaves(a.treeSnapshot) == before, "a merge that stored nothing moved a leaf; \(repro)")

        // Store b: the same records shuffled; half the trees built first, the rest halfway
        // (after a flush), so that both incremental and scanned leaves are compared.
        let shuffled = deliveries.shuffled(using: &rng)
        let engineB = try Self.openEngine(try Self.memory(), memtableBytes: 16 << 10)
        let b = try ReplicaStore(engine: engineB, treeShape: shape)
        for partition in stride(from: 0, to: shape.partitionCount, by: 2) { #expect(try b.rebuildTree(partition: partition)) }
        for (index, delivery) in shuffled.enumerated() {
            if index == shuffled.count / 2 {
                try engineB.flush()
                for partition in stride(from: 1, to: shape.partitionCount, by: 2) {
                    #expect(b.treeRoot(partition: partition) == nil, "partition \(partition) built before its rebuild")
                    #expect(try b.rebuildTree(partition: partition))
                }
            }
            try b.merge(delivery.key, delivery.record)
        }
        #expect(a.treePartitionsBuilt == shape.partitionCount && b.treePartitionsBuilt == shape.partitionCount)
        #expect(try a.verifyTree() == nil, "\(repro)")
        #expect(try b.verifyTree() == nil, "\(repro)")

        for key in keys { #expect(try a.read(key) == b.read(key), "\(Self.text(key)) differs between the stores; \(repro)") }
        for partition in 0..<shape.partitionCount {
            let root = a.treeRoot(partition: partition)
            #expect(root != nil && root == b.treeRoot(partition: partition), "partition \(partition) roots; \(repro)")
            for level in 0...shape.leafLevel {
                let indices = Array(0..<shape.nodeCount(level: level))
                let hashesA = a.treeHashes(partition: partition, level: level, indices: indices)
                #expect(hashesA != nil && hashesA == b.treeHashes(partition: partition, level: level, indices: indices),
                        "partition \(partition) level \(level); \(repro)")
            }
        }

        // Against an independent model: each key's stored bytes hashed into its token's leaf.
        var model = [UInt64](repeating: 0, count: shape.leafCount)
        for key in keys {
            guard let record = try a.read(key) else { continue }
            let bytes = try RecordCodec.encode(record)
            model[shape.leaf(of: RingToken.of(key))] ^= MerkleTree.hash(storedKey: StorageKey.encode(key), value: bytes)
        }
        #expect(Self.leaves(a.treeSnapshot) == model, "\(repro)")
        #expect(model.contains(where: { $0 != 0 }))
        // One leaf XORs (at least) the three colliding keys, all stored.
        let sharedLeaf = shape.leaf(of: RingToken.of(colliding[0]))
        #expect(colliding.allSatisfy { shape.leaf(of: RingToken.of($0)) == sharedLeaf })
        for key in colliding { #expect(try a.read(key) != nil, "\(Self.text(key)) not stored; \(repro)") }
        try engineA.close()
        try engineB.close()
    }

    @Test func aWriteOfUnknownOutcomeUnbuildsOnlyItsPartition() throws {
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        let memory = try Self.memory()
        let faults = FaultInjectingFileSystem(wrapping: memory)
        let engine = try Self.openEngine(faults)
        let store = try ReplicaStore(engine: engine, treeShape: shape)
        try Self.rebuildAll(store)
        let writer = ReplicaID(node: 1, epoch: 1)
        for i in 0..<40 { try store.merge(Array("kv:f\(i)".utf8), try Self.siblings("v\(i)", at: writer)) }
        let roots = (0..<shape.partitionCount).map { store.treeRoot(partition: $0) }
        #expect(roots.allSatisfy { $0 != nil })

        let key = Array("kv:fails".utf8)
        let partition = Self.partition(of: key, in: shape)
        let failing = try Self.siblings("lost?", at: writer)
        // The WAL's sync fails after syncing: the record may be on disk.
        faults.inject(FaultInjectingFileSystem.Fault(.sync, pathContains: ".wal", effect: .applied))
        do {
            try store.merge(key, failing)
            Issue.record("the write did not fail")
        } catch {
            guard case .storage = error else { Issue.record("\(error)"); return }
        }
        #expect(faults.injections.count == 1, "\(faults.injections)")
        #expect(store.treeRoot(partition: partition) == nil, "partition \(partition) still claims a built tree")
        #expect(store.treeHashes(partition: partition, level: 0, indices: [0]) == nil)
        for other in 0..<shape.partitionCount where other != partition {
            #expect(store.treeRoot(partition: other) == roots[other], "partition \(other) changed")
        }
        #expect(store.treePartitionsBuilt == shape.partitionCount - 1)
        #expect(store.unbuiltPartition(from: 0) == partition)
        #expect(store.unbuiltPartition(from: (partition + 1) % shape.partitionCount) == partition, "the search does not wrap")
        #expect(store.treeSnapshot.checkInvariants() == nil)
        // The failed write ended: a rebuild is not refused as racing it, and matches a rescan.
        #expect(try store.rebuildTree(partition: partition), "a failed write left its partition's rebuild refused for good")
        #expect(store.treePartitionsBuilt == shape.partitionCount && store.unbuiltPartition(from: 0) == nil)
        #expect(try store.verifyTree() == nil)
        try? engine.close()
    }

    @Test func aRebuildAfterReopenInstallsTheScannedLeaves() throws {
        let name = "aRebuildAfterReopenInstallsTheScannedLeaves"
        let seed = TestSeed.make(name)
        let repro = TestSeed.repro(seed, name)
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        let memory = try Self.memory()
        let first = try Self.openEngine(memory, memtableBytes: 16 << 10)
        let before = try ReplicaStore(engine: first, treeShape: shape)
        try Self.rebuildAll(before)
        let keys = (0..<80).map { Array("cart:r\($0)".utf8) } + (0..<80).map { Array("kv:r\($0)".utf8) }
        let deliveries = Self.deliveries(seed: seed, keys: keys, count: 400)
        for (index, delivery) in deliveries.enumerated() {
            try before.merge(delivery.key, delivery.record)
            if index == 200 { try first.flush() }
        }
        #expect(try before.verifyTree() == nil, "\(repro)")
        let kept = Self.leaves(before.treeSnapshot)
        #expect(kept.contains(where: { $0 != 0 }))
        try first.close()

        let second = try Self.openEngine(memory, memtableBytes: 16 << 10)
        let after = try ReplicaStore(engine: second, treeShape: shape)
        #expect(after.treePartitionsBuilt == 0)
        #expect(after.unbuiltPartition(from: 7) == 7)
        let count = shape.leavesPerPartition
        for partition in 0..<shape.partitionCount {
            #expect(after.treeRoot(partition: partition) == nil)
            let scanned = try after.scanLeaves(partition: partition)
            #expect(scanned == Array(kept[partition * count..<(partition + 1) * count]),
                    "partition \(partition): the rescan differs from the tree kept before the reopen; \(repro)")
            #expect(try after.rebuildTree(partition: partition))
            let tree = after.treeSnapshot
            let installed = (0..<count).map { tree.leaf(partition: partition, $0) }
            #expect(installed == scanned, "partition \(partition); \(repro)")
        }
        #expect(Self.leaves(after.treeSnapshot) == kept, "\(repro)")
        #expect(try Self.modelLeaves(second, shape: shape).leaves == kept, "\(repro)")
        // The rebuilt tree is kept from there on.
        try after.merge(keys[0], try Self.cart("Z", 3, at: ReplicaID(node: 7, epoch: 1), id: "late"))
        #expect(try after.verifyTree() == nil, "\(repro)")
        try second.close()
    }

    /// Entries at both ends of leaves (written under stored keys that carry the boundary tokens)
    /// land in exactly their leaf, in scans, rebuilt leaves and digests.
    @Test func digestsListExactlyTheKeysOfALeafEvenAtItsTokenBounds() throws {
        let shape = try MerkleTree.Shape(partitionBits: 4, leafBits: 10)
        let engine = try Self.openEngine(try Self.memory())
        let store = try ReplicaStore(engine: engine, treeShape: shape)
        let writer = ReplicaID(node: 1, epoch: 1)
        for i in 0..<150 { try store.merge(Array("kv:d\(i)".utf8), try Self.siblings("v\(i)", at: writer)) }
        let value = try RecordCodec.encode(try Self.siblings("edge", at: writer))
        var edges: [UInt64] = [0, UInt64.max]
        for (partition, leaf) in [(0, 0), (0, 1), (0, 63), (1, 0), (7, 31), (7, 32), (8, 0), (15, 62), (15, 63)] {
            let range = shape.tokenRange(partition: partition, leaf: leaf)
            edges += [range.lowerBound, range.upperBound]
        }
        for token in Set(edges) {
            var stored = [StorageKey.dataNamespace]
            for shift in stride(from: 56, through: 0, by: -8) { stored.append(UInt8(truncatingIfNeeded: token >> UInt64(shift))) }
            stored += Array("edge-\(token)".utf8)
            try engine.put(stored, value)
        }
        try Self.rebuildAll(store)
        #expect(try store.verifyTree() == nil)

        let model = try Self.modelLeaves(engine, shape: shape)
        #expect(model.entries.count == 150 + Set(edges).count)
        #expect(Self.leaves(store.treeSnapshot) == model.leaves)
        var byLeaf: [Int: [KeyDigest]] = [:]
        for entry in model.entries { // in stored-key order
            let token = entry.stored.dropFirst().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            byLeaf[shape.leaf(of: token), default: []]
                .append(KeyDigest(key: Array(entry.stored.dropFirst(9)), hash: MerkleTree.hash(storedKey: entry.stored, value: entry.value)))
        }
        var problems: [String] = []
        for partition in 0..<shape.partitionCount {
            let scanned = try store.scanLeaves(partition: partition)
            if scanned != Array(model.leaves[partition * shape.leavesPerPartition..<(partition + 1) * shape.leavesPerPartition]) {
                problems.append("scanLeaves(\(partition))")
            }
            for leaf in 0..<shape.leavesPerPartition {
                let listed = try store.digests(partition: partition, leaf: leaf)
                let expected = byLeaf[partition * shape.leavesPerPartition + leaf] ?? []
                if listed != expected {
                    problems.append("digests(\(partition), \(leaf)): \(listed.map { Self.text($0.key) }) ≠ \(expected.map { Self.text($0.key) })")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(6))")
        let first = try store.digests(partition: 0, leaf: 0).map(\.key)
        let last = try store.digests(partition: 15, leaf: 63).map(\.key)
        #expect(first.contains(Array("edge-0".utf8)), "token 0 is not in the first leaf")
        #expect(last.contains(Array("edge-\(UInt64.max)".utf8)), "token UInt64.max is not in the last leaf")
        try engine.close()
    }

    // MARK: - 4. Exchanges between nodes

    @Test func anExchangeConvergesReplicasAndThenCostsNoKeys() throws {
        let cluster = try TestCluster(nodes: 3) { $0.antiEntropyIntervalMs = 10 }
        let nodes = [n1, n2, n3]
        let configuration = cluster.node(n1).configuration
        let partitions = cluster.ring.partitionCount
        let rebuildSpan = UInt64(partitions) * configuration.treeRebuildIntervalMs + 10
        let exchangeSpan = 5 * UInt64(partitions) * configuration.antiEntropyIntervalMs

        var expected: [[UInt8]: StoredRecord] = [:]
        var keys: [[UInt8]] = []
        func write(_ index: Int) throws {
            let holder = nodes[index % 3]
            let replica = ReplicaID(node: holder.value, epoch: 1)
            let key = Array((index % 2 == 0 ? "cart:ae\(index)" : "kv:ae\(index)").utf8)
            let record: StoredRecord
            if index % 2 == 0 {
                record = try Self.cart("S\(index)", 1, at: replica, id: "ae-\(index)")
            } else {
                record = try Self.siblings("v\(index)", at: replica)
            }
            try cluster.node(holder).storage.replicas.merge(key, record)
            expected[key] = record
            keys.append(key)
        }
        // Two thirds before the trees are built (found by the rebuild's scan), the rest after
        // (kept by the write path).
        for index in 0..<34 { try write(index) }
        // One key held differently on two nodes: both must end with the join.
        let conflict = keys[0]
        let other = try Self.cart("T", 2, at: ReplicaID(node: n2.value, epoch: 1), id: "ae-conflict")
        try cluster.node(n2).storage.replicas.merge(conflict, other)
        expected[conflict] = try #require(expected[conflict]?.merging(other))

        cluster.run(forMs: rebuildSpan)
        for id in nodes { #expect(cluster.node(id).storage.replicas.treePartitionsBuilt == partitions, "\(id) trees unbuilt") }
        for index in 34..<50 { try write(index) }
        let spread = Set(keys.map { cluster.ring.partition(ofKey: $0) }).count
        #expect(spread > 15, "keys spread over \(spread) partitions only")
        cluster.run(forMs: exchangeSpan)

        var mismatched: [String] = []
        for key in keys {
            for id in nodes {
                let held = try cluster.node(id).storage.replicas.read(key)
                if held != expected[key] { mismatched.append("\(Self.text(key)) on \(id)") }
            }
        }
        #expect(mismatched.isEmpty, "records not converged: \(mismatched.prefix(10))")
        for partition in 0..<partitions {
            let roots = nodes.map { cluster.node($0).storage.replicas.treeRoot(partition: partition) }
            #expect(roots[0] != nil && Set(roots).count == 1, "partition \(partition) roots \(roots)")
        }
        for id in nodes {
            #expect(try cluster.node(id).storage.replicas.verifyTree() == nil, "\(id)")
            let status = cluster.node(id).antiEntropyStatus
            #expect(status.partitionsBuilt == partitions && status.roots.count == partitions && status.exchangesInFlight <= 1)
        }
        let first = nodes.map { cluster.node($0).statistics }
        #expect(first.map(\.antiEntropyKeysSent).reduce(0, +) > 0)
        #expect(first.map(\.antiEntropyDescents).reduce(0, +) > 0)

        // In-sync partitions cost no keys.
        cluster.run(forMs: exchangeSpan)
        for (index, id) in nodes.enumerated() {
            let now = cluster.node(id).statistics
            #expect(now.antiEntropyKeysSent == first[index].antiEntropyKeysSent,
                    "\(id) sent \(now.antiEntropyKeysSent - first[index].antiEntropyKeysSent) keys for replicas in sync")
            #expect(now.antiEntropyExchanges > first[index].antiEntropyExchanges, "\(id) ran no exchange in the second run")
            #expect(now.antiEntropyInSync > first[index].antiEntropyInSync)
        }
        for key in keys {
            for id in nodes { #expect(try cluster.node(id).storage.replicas.read(key) == expected[key], "\(Self.text(key)) on \(id)") }
        }
    }

    /// A partition's exchanges run among its `replicationN` replicas, but a key of a namespace
    /// with a smaller N has fewer: it is sent only to its own replicas.
    @Test func anExchangeNeverPushesAKeyToANodeThatIsNotItsReplica() throws {
        let cluster = try TestCluster(nodes: 4) { configuration in
            configuration.antiEntropyIntervalMs = 10
            configuration.namespaces += [KeyNamespace(prefix: "solo:", policy: .siblings, n: 1),
                                         KeyNamespace(prefix: "duo:", policy: .siblings, n: 2)]
        }
        let configuration = cluster.node(n1).configuration
        #expect(configuration.replicationN == 3)
        let kv = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        let solo = cluster.key(prefix: "solo:", replicas: [n1, n2, n3])
        let duo = cluster.key(prefix: "duo:", replicas: [n1, n2, n3])
        let replicas: [[UInt8]: Set<NodeID>] = [kv: [n1, n2, n3], solo: [n1], duo: [n1, n2]]
        for (key, owners) in replicas {
            #expect(Set(cluster.ring.preferenceList(forKey: key, n: configuration.namespace(of: key).n)) == owners)
        }
        let kvRecord = try Self.siblings("kv", at: ReplicaID(node: 2, epoch: 1))
        let soloRecord = try Self.siblings("solo", at: ReplicaID(node: 1, epoch: 1))
        let duoRecord = try Self.siblings("duo", at: ReplicaID(node: 1, epoch: 1))
        try cluster.node(n2).storage.replicas.merge(kv, kvRecord)
        try cluster.node(n1).storage.replicas.merge(solo, soloRecord)
        try cluster.node(n1).storage.replicas.merge(duo, duoRecord)

        let partitions = UInt64(cluster.ring.partitionCount)
        cluster.run(forMs: partitions * configuration.treeRebuildIntervalMs + 10 + 5 * partitions * configuration.antiEntropyIntervalMs)

        func held(_ key: [UInt8]) throws -> Set<NodeID> {
            Set(try [n1, n2, n3, n4].filter { try cluster.node($0).storage.replicas.read(key) != nil })
        }
        #expect(try held(kv) == [n1, n2, n3], "the kv key reached its replicas only")
        #expect(try held(solo) == [n1], "the N=1 key was copied")
        // (Whether it reached n2 is `everyPairOfAKeysReplicasIsRepaired`'s question.)
        #expect(try held(duo).isSubset(of: [n1, n2]), "the N=2 key reached a node that is not its replica")
        for id in [n1, n3] { #expect(try cluster.node(id).storage.replicas.read(kv) == kvRecord) }
        var strays: [String] = []
        for (from, to, message) in cluster.sent {
            guard case let .repair(key, _) = message, let owners = replicas[key], !owners.contains(to) else { continue }
            strays.append("\(Self.text(key)) from \(from) to \(to)")
        }
        #expect(strays.isEmpty, "repairs sent to non-replicas: \(strays.prefix(6))")
        #expect([n1, n2, n3, n4].map { cluster.node($0).statistics.antiEntropyKeysSent }.reduce(0, +) >= 2)
    }

    /// A key of a namespace whose N is below the cluster's largest has fewer replicas than its
    /// partition: anti-entropy must still bring every pair of them together. One N=2 key per
    /// partition, written (after the trees are built) on its first replica only, must reach its
    /// second within a few passes over the partitions.
    ///
    /// Why it can fail: if a node always takes the same one of a partition's two peers (its
    /// peer turn advances once per exchange, so with an even number of partitions per pass it
    /// has the same parity at each partition every pass), the two replicas of some N=2 keys
    /// may never exchange, and the third node of the partition cannot relay (it refuses keys it
    /// does not replicate).
    @Test func everyPairOfAKeysReplicasIsRepaired() throws {
        let cluster = try TestCluster(nodes: 3) { configuration in
            configuration.antiEntropyIntervalMs = 10
            configuration.namespaces += [KeyNamespace(prefix: "duo:", policy: .siblings, n: 2)]
        }
        let configuration = cluster.node(n1).configuration
        let partitions = cluster.ring.partitionCount
        cluster.run(forMs: UInt64(partitions) * configuration.treeRebuildIntervalMs + 10)
        var keys: [Int: [UInt8]] = [:]
        var index = 0
        while keys.count < partitions && index < 100_000 {
            let key = Array("duo:k\(index)".utf8)
            keys[cluster.ring.partition(ofKey: key)] = keys[cluster.ring.partition(ofKey: key)] ?? key
            index += 1
        }
        #expect(keys.count == partitions)
        for (partition, key) in keys {
            let owners = cluster.ring.preferenceList(forKey: key, n: 2)
            try cluster.node(owners[0]).storage.replicas.merge(key, try Self.siblings("p\(partition)", at: ReplicaID(node: owners[0].value, epoch: 1)))
        }
        cluster.run(forMs: 6 * UInt64(partitions) * configuration.antiEntropyIntervalMs)

        var unrepaired: [Int] = []
        var strays: [Int] = []
        for (partition, key) in keys.sorted(by: { $0.key < $1.key }) {
            let list = cluster.ring.preferenceList(forKey: key, n: 3)
            if try cluster.node(list[1]).storage.replicas.read(key) == nil { unrepaired.append(partition) }
            if try cluster.node(list[2]).storage.replicas.read(key) != nil { strays.append(partition) }
        }
        #expect(unrepaired.isEmpty, "N=2 keys never repaired onto their second replica in partitions \(unrepaired)")
        #expect(strays.isEmpty, "N=2 keys copied to their partition's third node in partitions \(strays)")
    }

    // MARK: - 6. Malformed peer input

    @Test func malformedTreeMessagesAreIgnoredWithoutATrap() throws {
        let cluster = try TestCluster(nodes: 3)
        var node = cluster.node(n1)
        let shape = node.storage.replicas.treeShape
        let now = cluster.nowMs

        // Well-formed input to an unbuilt tree: answered "not ready".
        let unbuilt = node.handle(.message(.treeHashes(id: 1, partition: 0, level: 0, indices: [0], hashes: [0]), from: n2), nowMs: now)
        #expect(unbuilt == [.send(.treeHashesReply(id: 1, ready: false, differing: []), to: n2)])

        let key = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        let record = try Self.siblings("held", at: ReplicaID(node: 1, epoch: 1))
        try node.storage.replicas.merge(key, record)
        for id in [n1, n2, n3] { try Self.rebuildAll(cluster.node(id).storage.replicas) }
        let keyPartition = Self.partition(of: key, in: shape)
        let keyLeaf = shape.leaf(of: RingToken.of(key)) - keyPartition * shape.leavesPerPartition
        let root = try #require(node.storage.replicas.treeRoot(partition: 0))
        let leafLevel = shape.leafLevel
        let leafCount = shape.leavesPerPartition
        let digest = KeyDigest(key: key, hash: 1)

        let malformed: [(String, ClusterMessage)] = [
            ("level past the leaves", .treeHashes(id: 2, partition: 0, level: leafLevel + 1, indices: [0], hashes: [0])),
            ("negative level", .treeHashes(id: 3, partition: 0, level: -1, indices: [0], hashes: [0])),
            ("largest level", .treeHashes(id: 4, partition: 0, level: Int.max, indices: [0], hashes: [0])),
            ("smallest level", .treeHashes(id: 5, partition: 0, level: Int.min, indices: [0], hashes: [0])),
            ("index past its level", .treeHashes(id: 6, partition: 0, level: 1, indices: [shape.nodeCount(level: 1)], hashes: [0])),
            ("index past the root", .treeHashes(id: 7, partition: 0, level: 0, indices: [1], hashes: [0])),
            ("negative index", .treeHashes(id: 8, partition: 0, level: leafLevel, indices: [-1], hashes: [0])),
            ("one bad index among good ones",
             .treeHashes(id: 9, partition: 0, level: leafLevel, indices: [0, 1, leafCount], hashes: [0, 0, 0])),
            ("fewer hashes than indices", .treeHashes(id: 10, partition: 0, level: 1, indices: [0, 1], hashes: [0])),
            ("more hashes than indices", .treeHashes(id: 11, partition: 0, level: 1, indices: [0], hashes: [0, root])),
            ("partition past the ring", .treeHashes(id: 12, partition: shape.partitionCount, level: 0, indices: [0], hashes: [0])),
            ("negative partition", .treeHashes(id: 13, partition: -1, level: 0, indices: [0], hashes: [0])),
            ("largest partition", .treeHashes(id: 14, partition: Int.max, level: 0, indices: [0], hashes: [0])),
            ("keys: leaf past the partition", .treeKeys(id: 20, partition: keyPartition, leaves: [leafCount], digests: [digest])),
            ("keys: negative leaf", .treeKeys(id: 21, partition: keyPartition, leaves: [-1], digests: [digest])),
            ("keys: largest leaf", .treeKeys(id: 22, partition: keyPartition, leaves: [Int.max], digests: [digest])),
            ("keys: one bad leaf after the key's",
             .treeKeys(id: 23, partition: keyPartition, leaves: [keyLeaf, leafCount], digests: [digest])),
            ("keys: partition past the ring", .treeKeys(id: 24, partition: shape.partitionCount, leaves: [0], digests: [digest])),
            ("keys: negative partition", .treeKeys(id: 25, partition: -1, leaves: [0], digests: [digest])),
            ("hashes reply to no exchange", .treeHashesReply(id: 999, ready: true, differing: [0])),
            ("keys reply to no exchange", .treeKeysReply(id: 999, wanted: [key])),
        ]
        for (what, message) in malformed {
            let effects = node.handle(.message(message, from: n2), nowMs: now)
            #expect(effects.isEmpty, "\(what): \(effects)")
        }
        #expect(node.checkInvariants(nowMs: now) == nil)

        // The same messages well formed are answered: the silences above are refusals.
        let differ = node.handle(.message(.treeHashes(id: 30, partition: 0, level: 0, indices: [0], hashes: [root ^ 1]), from: n2),
                                 nowMs: now)
        #expect(differ == [.send(.treeHashesReply(id: 30, ready: true, differing: [0]), to: n2)])
        let agree = node.handle(.message(.treeHashes(id: 31, partition: 0, level: 0, indices: [0], hashes: [root]), from: n2), nowMs: now)
        #expect(agree == [.send(.treeHashesReply(id: 31, ready: true, differing: []), to: n2)])
        let answered = node.handle(.message(.treeKeys(id: 32, partition: keyPartition, leaves: [keyLeaf], digests: []), from: n2),
                                   nowMs: now)
        #expect(answered == [.send(.repair(key: key, record: record), to: n2), .send(.treeKeysReply(id: 32, wanted: []), to: n2)])

        // The initiator's side: replies from the wrong peer, of the wrong stage, or naming
        // nodes the level lacks.
        func start(at nowMs: UInt64) -> (id: UInt64, partition: Int, peer: NodeID)? {
            let sent = Self.sends(node.handle(.timer(.antiEntropy), nowMs: nowMs))
            guard sent.count == 1, case let .treeHashes(id, partition, level, indices, _) = sent[0].message,
                  level == 0, indices == [0] else {
                Issue.record("no exchange started: \(sent)")
                return nil
            }
            return (id, partition, sent[0].to)
        }
        let started = start(at: now + 10)
        let exchange = try #require(started)
        let stranger = exchange.peer == n2 ? n3 : n2
        let fromStranger = node.handle(.message(.treeHashesReply(id: exchange.id, ready: true, differing: [0]), from: stranger),
                                       nowMs: now + 11)
        #expect(fromStranger.isEmpty, "a reply from a node that is not the exchange's peer was taken")
        let keysEarly = node.handle(.message(.treeKeysReply(id: exchange.id, wanted: [key]), from: exchange.peer), nowMs: now + 11)
        #expect(keysEarly.isEmpty, "a keys reply was taken while descending")
        #expect(node.antiEntropyStatus.exchangesInFlight == 1)
        // A well-formed reply descends to the root's children...
        let descended = Self.sends(node.handle(.message(.treeHashesReply(id: exchange.id, ready: true, differing: [0]), from: exchange.peer),
                                               nowMs: now + 12))
        guard descended.count == 1, case let .treeHashes(_, partition, level, indices, hashes) = descended[0].message else {
            Issue.record("no descent: \(descended)")
            return
        }
        #expect(partition == exchange.partition && level == 1 && descended[0].to == exchange.peer)
        #expect(indices == Array(0..<shape.nodeCount(level: 1)) && hashes.count == indices.count)
        // ...and a reply naming a child the level lacks drops the exchange, sending nothing.
        var abandoned = node.statistics.antiEntropyAbandoned
        let pastLevel = node.handle(.message(.treeHashesReply(id: exchange.id, ready: true, differing: [shape.nodeCount(level: 1)]),
                                             from: exchange.peer), nowMs: now + 13)
        #expect(pastLevel.isEmpty)
        #expect(node.statistics.antiEntropyAbandoned == abandoned + 1 && node.antiEntropyStatus.exchangesInFlight == 0)
        let late = node.handle(.message(.treeHashesReply(id: exchange.id, ready: true, differing: [0]), from: exchange.peer), nowMs: now + 14)
        #expect(late.isEmpty, "a reply to a dropped exchange was taken")

        for differing in [[-1], [1], [Int.max]] {
            let begun = start(at: now + 20)
            let next = try #require(begun)
            abandoned = node.statistics.antiEntropyAbandoned
            let effects = node.handle(.message(.treeHashesReply(id: next.id, ready: true, differing: differing), from: next.peer),
                                      nowMs: now + 21)
            #expect(effects.isEmpty, "differing \(differing) at the root: \(effects)")
            #expect(node.statistics.antiEntropyAbandoned == abandoned + 1 && node.antiEntropyStatus.exchangesInFlight == 0)
        }
        let begunLast = start(at: now + 30)
        let notReady = try #require(begunLast)
        let refused = node.handle(.message(.treeHashesReply(id: notReady.id, ready: false, differing: [0]), from: notReady.peer),
                                  nowMs: now + 31)
        #expect(refused.isEmpty)
        #expect(node.antiEntropyStatus.exchangesInFlight == 0)
        #expect(node.checkInvariants(nowMs: now + 31) == nil)
    }
}
