import CartVersioning

/// Merkle anti-entropy (Riak's TicTac AAE, active): every `antiEntropyIntervalMs` a node picks
/// the next partition it replicates whose tree is built, and one of that partition's other
/// replicas in turn, and descends the two trees together: it sends its hashes of a level's
/// nodes, the peer answers which differ, it sends the children of those, down to the leaves;
/// then it lists the digests (key, hash) of its keys in the differing leaves, and the peer
/// sends back its records of the keys it holds differently or the initiator lacks (as
/// `repair`) and names the keys it wants, which the initiator sends. Both sides merge what
/// arrives (a join), so after one exchange of a quiet partition the two replicas hold the same
/// records and equal roots.
///
/// Bounded: one exchange in flight per node, at most `antiEntropyKeysPerExchange` digests
/// listed (whole leaves, in order; the rest are found by a later exchange), and a key is sent
/// only to a peer that is one of its N replicas. An exchange whose peer goes silent is
/// forgotten after `antiEntropyTimeoutMs`. Nothing in an exchange changes a record except the
/// merges, so a lost, late or duplicated message costs only a repeat.
extension ClusterNode {
    /// Starts an exchange of the next partition this node replicates, if none is in flight;
    /// forgets one past its timeout first.
    mutating func startExchange(nowMs: UInt64, effects: inout [NodeEffect]) {
        for id in exchanges.keys.sorted() where exchanges[id]!.startedMs + configuration.antiEntropyTimeoutMs <= nowMs {
            exchanges[id] = nil
            statistics.antiEntropyAbandoned += 1
        }
        guard exchanges.isEmpty else { return }
        let ring = configuration.ring
        for _ in 0..<ring.partitionCount {
            let partition = exchangeCursor
            exchangeCursor = (exchangeCursor + 1) % ring.partitionCount
            if exchangeCursor == 0 { exchangePass += 1 }
            let replicas = ring.preferenceList(forPartition: partition, n: configuration.replicationN)
            guard replicas.contains(node), let root = storage.replicas.treeRoot(partition: partition) else { continue }
            let peers = replicas.filter { $0 != node && !isDown($0, nowMs: nowMs) }
            guard !peers.isEmpty else { continue }
            // Each pass takes the partition's next peer, so that every pair of its replicas
            // (a key of a smaller N has only some of them) is compared within N − 1 passes.
            let peer = peers[exchangePass % peers.count]
            let id = allocateID()
            exchanges[id] = AntiEntropyExchange(partition: partition, peer: peer, stage: .descending(level: 0), startedMs: nowMs)
            statistics.antiEntropyExchanges += 1
            effects.append(.send(.treeHashes(id: id, partition: partition, level: 0, indices: [0], hashes: [root]), to: peer))
            return
        }
    }

    /// Rebuilds the next unbuilt partition's tree; false if every partition is built.
    mutating func rebuildTree() -> Bool {
        guard let partition = storage.replicas.unbuiltPartition(from: rebuildCursor) else { return false }
        do {
            // A rebuild that raced a write is discarded and retried at this partition.
            if try storage.replicas.rebuildTree(partition: partition) {
                statistics.treeRebuilds += 1
                rebuildCursor = (partition + 1) % storage.replicas.treeShape.partitionCount
            }
        } catch {
            // The scan failed (the engine failed): the partition stays unbuilt; try the next.
            statistics.treeRebuildFailures += 1
            rebuildCursor = (partition + 1) % storage.replicas.treeShape.partitionCount
        }
        return true
    }

    /// A peer's hashes: answers which differ from this node's (or that its tree is unbuilt).
    /// Input that names no node of the tree is ignored (the initiator forgets the exchange).
    mutating func compareTreeHashes(_ id: UInt64, partition: Int, level: Int, indices: [Int], hashes: [UInt64],
                                    from peer: NodeID, effects: inout [NodeEffect]) {
        let shape = storage.replicas.treeShape
        guard (0..<shape.partitionCount).contains(partition), indices.count == hashes.count,
              indices.allSatisfy({ shape.contains(level: level, index: $0) }) else { return }
        guard let mine = storage.replicas.treeHashes(partition: partition, level: level, indices: indices) else {
            effects.append(.send(.treeHashesReply(id: id, ready: false, differing: []), to: peer))
            return
        }
        let differing = indices.indices.filter { mine[$0] != hashes[$0] }.map { indices[$0] }
        effects.append(.send(.treeHashesReply(id: id, ready: true, differing: differing), to: peer))
    }

    /// The peer's differing nodes: descend to their children, or at the leaves list the keys.
    mutating func treeHashesReplied(_ id: UInt64, ready: Bool, differing: [Int], from peer: NodeID, nowMs: UInt64,
                                    effects: inout [NodeEffect]) {
        guard var exchange = exchanges[id], exchange.peer == peer, case let .descending(level) = exchange.stage else { return }
        let shape = storage.replicas.treeShape
        guard ready, differing.allSatisfy({ shape.contains(level: level, index: $0) }) else {
            exchanges[id] = nil
            statistics.antiEntropyAbandoned += 1
            return
        }
        guard !differing.isEmpty else {
            exchanges[id] = nil
            if level == 0 { statistics.antiEntropyInSync += 1 }
            return
        }
        if level < shape.leafLevel {
            let children = differing.flatMap { shape.children(level: level, index: $0) }
            guard let hashes = storage.replicas.treeHashes(partition: exchange.partition, level: level + 1, indices: children) else {
                exchanges[id] = nil
                statistics.antiEntropyAbandoned += 1
                return
            }
            exchange.stage = .descending(level: level + 1)
            exchanges[id] = exchange
            effects.append(.send(.treeHashes(id: id, partition: exchange.partition, level: level + 1, indices: children, hashes: hashes),
                                 to: peer))
            return
        }
        // At the leaves: list whole leaves, in order, while under the bound (at least one).
        var leaves: [Int] = []
        var digests: [KeyDigest] = []
        for leaf in differing {
            guard leaves.isEmpty || digests.count < configuration.antiEntropyKeysPerExchange else { break }
            guard let listed = try? storage.replicas.digests(partition: exchange.partition, leaf: leaf) else { break }
            leaves.append(leaf)
            digests += listed
        }
        guard !leaves.isEmpty else {
            exchanges[id] = nil
            statistics.antiEntropyAbandoned += 1
            return
        }
        statistics.antiEntropyDescents += 1
        exchange.stage = .keys
        exchanges[id] = exchange
        effects.append(.send(.treeKeys(id: id, partition: exchange.partition, leaves: leaves, digests: digests), to: peer))
    }

    /// The initiator's digests of some leaves: send it this node's records of the keys it lacks
    /// or holds differently, and ask for the ones this node lacks or holds differently.
    mutating func compareTreeKeys(_ id: UInt64, partition: Int, leaves: [Int], digests: [KeyDigest], from peer: NodeID,
                                  effects: inout [NodeEffect]) {
        let shape = storage.replicas.treeShape
        guard (0..<shape.partitionCount).contains(partition), leaves.allSatisfy({ (0..<shape.leavesPerPartition).contains($0) }) else {
            return
        }
        var theirs: [[UInt8]: UInt64] = [:]
        for digest in digests { theirs[digest.key] = digest.hash }
        var mine: [[UInt8]: UInt64] = [:]
        for leaf in leaves {
            guard let listed = try? storage.replicas.digests(partition: partition, leaf: leaf) else { return }
            for digest in listed {
                mine[digest.key] = digest.hash
                guard theirs[digest.key] != digest.hash, isReplica(peer, of: digest.key),
                      let record = try? storage.replicas.read(digest.key) else { continue }
                statistics.antiEntropyKeysSent += 1
                effects.append(.send(.repair(key: digest.key, record: record), to: peer))
            }
        }
        let wanted = digests.filter { mine[$0.key] != $0.hash && isReplica(node, of: $0.key) }.map(\.key)
        effects.append(.send(.treeKeysReply(id: id, wanted: wanted), to: peer))
    }

    /// The keys the peer wants: send them, and end the exchange.
    mutating func treeKeysReplied(_ id: UInt64, wanted: [[UInt8]], from peer: NodeID, effects: inout [NodeEffect]) {
        guard let exchange = exchanges[id], exchange.peer == peer, exchange.stage == .keys else { return }
        exchanges[id] = nil
        for key in wanted where isReplica(peer, of: key) {
            guard let record = try? storage.replicas.read(key) else { continue }
            statistics.antiEntropyKeysSent += 1
            effects.append(.send(.repair(key: key, record: record), to: peer))
        }
    }

    /// True if `candidate` is one of `key`'s N replicas.
    func isReplica(_ candidate: NodeID, of key: [UInt8]) -> Bool {
        replicas(of: key).contains(candidate)
    }

    /// Anti-entropy as a status page shows it: trees built, the exchange in flight, and the
    /// root of each partition this node replicates (nil while unbuilt).
    public var antiEntropyStatus: AntiEntropyStatus {
        AntiEntropyStatus(configuration: configuration, store: storage.replicas, exchangesInFlight: exchanges.count)
    }

    /// Anti-entropy exchanges this node started that are in flight (0 or 1).
    public var exchangesInFlight: Int { exchanges.count }
}
