import CartCluster
import CartStorage
import CartVersioning
import Logging

/// `cartstore-sim scale`: how the cluster's placement and anti-entropy behave as it grows,
/// measured on the real code (the `Ring`'s claim, `ClusterNode`'s exchanges over real stores),
/// with nothing but arithmetic around it.
///
/// - **Balance**: keys per node (counting every replica) over the mean, for S nodes.
/// - **Join**: the share of (key, replica) placements that change when one node joins, against
///   the ideal N/(S+1) of a key's N replicas… expressed per placement: 1/(S+1).
/// - **Merkle exchange cost**: two replicas that differ in D keys of K run one full round of
///   exchanges (every partition once); the bytes of tree messages and of repaired records, as
///   the wire codec encodes them.
public enum ScaleStudy {
    /// One row of the placement table.
    public struct Placement: Sendable {
        public let nodes: Int
        public let partitionBits: Int
        public let keys: Int
        /// Max and min keys per node over the mean (replicas counted).
        public let maxOverMean: Double
        public let minOverMean: Double
        /// Share of (key, replica) placements that moved when one node joined, and the ideal.
        public let movedOnJoin: Double
        public let idealMoved: Double
        /// Share of placements that moved to a node other than the joiner (0 for a claim that
        /// only hands ranges to the joiner).
        public let movedElsewhere: Double
    }

    /// Measures placement for a ring of `nodes` nodes, N = 3, over `keys` synthetic cart keys.
    public static func placement(nodes: Int, partitionBits: Int, keys: Int) throws -> Placement {
        let ids = (1...nodes).map { NodeID(UInt64($0)) }
        let ring = try Ring(nodes: ids, partitionBits: partitionBits, targetN: 3)
        let joiner = NodeID(UInt64(nodes + 1))
        let joined = try ring.joining(joiner)
        // Placement depends only on a key's partition: count keys per partition once.
        var keysPerPartition = [Int](repeating: 0, count: ring.partitionCount)
        for index in 0..<keys { keysPerPartition[ring.partition(ofKey: Array("cart:user-\(index)".utf8))] += 1 }
        var perNode: [NodeID: Int] = [:]
        var moved = 0, elsewhere = 0
        for partition in 0..<ring.partitionCount where keysPerPartition[partition] > 0 {
            let count = keysPerPartition[partition]
            let before = ring.preferenceList(forPartition: partition, n: 3)
            let after = Set(joined.preferenceList(forPartition: partition, n: 3))
            for node in before { perNode[node, default: 0] += count }
            for node in after where !before.contains(node) {
                moved += count
                if node != joiner { elsewhere += count }
            }
        }
        let mean = Double(keys * 3) / Double(nodes)
        let counts = ids.map { Double(perNode[$0] ?? 0) }
        return Placement(nodes: nodes, partitionBits: partitionBits, keys: keys,
                         maxOverMean: (counts.max() ?? 0) / mean, minOverMean: (counts.min() ?? 0) / mean,
                         movedOnJoin: Double(moved) / Double(keys * 3), idealMoved: 1 / Double(nodes + 1),
                         movedElsewhere: Double(elsewhere) / Double(keys * 3))
    }

    /// One row of the exchange table.
    public struct Exchange: Sendable {
        public let keys: Int
        public let differing: Int
        /// Bytes of treeHashes/treeHashesReply/treeKeys/treeKeysReply messages in the round.
        public let treeBytes: Int
        /// Bytes of the repair messages (the records themselves).
        public let repairBytes: Int
        /// Records sent.
        public let keysSent: Int
        /// Partitions whose roots differed (exchanges that descended).
        public let descents: Int
        /// Roots equal on both replicas after the round.
        public let converged: Bool
    }

    /// Two replicas (a 2-node ring, N = 2) hold the same `keys` carts, except `differing` that
    /// the first holds with one more item; one round of exchanges from the first (every
    /// partition once), messages delivered at once and measured encoded.
    public static func exchange(keys: Int, differing: Int, partitionBits: Int) throws -> Exchange {
        let ids = [NodeID(1), NodeID(2)]
        let ring = try Ring(nodes: ids, partitionBits: partitionBits, targetN: 2)
        var nodes: [ClusterNode] = []
        for id in ids {
            var options = StorageOptions()
            options.fileSystem = MemoryFileSystem()
            options.backgroundMode = .manual
            options.sync = .none
            options.logger = Logger(label: "cartstore.scale", factory: { _ in SwiftLogNoOpLogHandler() })
            let engine = try StorageEngine.open("/data", options: options)
            let storage = try NodeStorage(engine: engine, node: id, freshEpoch: 1, treeShape: .standard(partitionBits: partitionBits),
                                          allowUnsyncedAcks: true)
            var configuration = NodeConfiguration(node: id, ring: ring)
            configuration.namespaces = [KeyNamespace(prefix: "cart:", policy: .cart, n: 2)]
            configuration.fallbackNamespace = KeyNamespace(prefix: "", policy: .siblings, n: 2)
            configuration.defaultR = 1
            configuration.defaultW = 1
            nodes.append(try ClusterNode(configuration: configuration, storage: storage, nowMs: 0))
        }
        let replica = ReplicaID(node: 1, epoch: 1)
        for index in 0..<keys {
            let key = Array("cart:user-\(index)".utf8)
            var cart = CartState()
            try cart.apply(.add(sku: "sku-\(index % 97)", quantity: 1, details: CartItemDetails(name: "item \(index % 97)")),
                           id: OperationID("op-\(index)"), at: replica, issuedCounter: 0, nowMs: 1_000)
            for node in nodes { try node.storage.replicas.merge(key, .cart(cart)) }
            if index < differing {
                try cart.apply(.add(sku: "extra", quantity: 1, details: CartItemDetails(name: "extra")),
                               id: OperationID("extra-\(index)"), at: replica, issuedCounter: 1, nowMs: 2_000)
                try nodes[0].storage.replicas.merge(key, .cart(cart))
            }
        }
        for node in nodes {
            for partition in 0..<ring.partitionCount { try node.storage.replicas.rebuildTree(partition: partition) }
        }
        var treeBytes = 0, repairBytes = 0
        var nowMs: UInt64 = 1_000
        for _ in 0..<ring.partitionCount {
            nowMs += nodes[0].configuration.antiEntropyIntervalMs
            var queue = nodes[0].handle(.timer(.antiEntropy), nowMs: nowMs).map { (from: 0, effect: $0) }
            while !queue.isEmpty {
                let (from, effect) = queue.removeFirst()
                guard case let .send(message, to) = effect else { continue }
                let bytes = try ClusterMessageCodec.encode(message).count
                if case .repair = message { repairBytes += bytes } else { treeBytes += bytes }
                let target = Int(to.value) - 1
                queue += nodes[target].handle(.message(message, from: ids[from]), nowMs: nowMs).map { (from: target, effect: $0) }
            }
        }
        let converged = (0..<ring.partitionCount).allSatisfy {
            nodes[0].storage.replicas.treeRoot(partition: $0) == nodes[1].storage.replicas.treeRoot(partition: $0)
        }
        let statistics = nodes[0].statistics + nodes[1].statistics
        for node in nodes { try node.storage.engine.close() }
        return Exchange(keys: keys, differing: differing, treeBytes: treeBytes, repairBytes: repairBytes,
                        keysSent: statistics.antiEntropyKeysSent, descents: statistics.antiEntropyDescents, converged: converged)
    }
}
