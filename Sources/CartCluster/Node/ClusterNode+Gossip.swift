/// Gossip membership and the failure detector (Cassandra's gossiper, push-pull):
/// every `gossipIntervalMs` a node bumps its own heartbeat and sends its whole view to one
/// member picked at random (a deterministic generator seeded by node and generation); the
/// receiver merges it and answers with the records it holds newer; the sender merges those.
/// Every record that advances feeds the phi accrual detector, which the coordinator consults
/// with its own suspicions (`isDown`) when it picks replicas, coordinators and fallbacks.
///
/// Members come from the ring (static membership in this release: join, leave and
/// remove-dead are not built yet); a member's own record carries its address, generation
/// (its start time) and status. Gossip rides the authenticated peer transport like every
/// other internode message.
extension ClusterNode {
    /// This node's record as it gossips it now.
    var ownRecord: MemberRecord { membership[node]! }

    /// One gossip round: bump the heartbeat, send the view to a random member.
    mutating func gossip(nowMs: UInt64, effects: inout [NodeEffect]) {
        var own = ownRecord
        own.version += 1
        membership.merge(own)
        let others = configuration.ring.nodes.filter { $0 != node }
        guard !others.isEmpty else { return }
        statistics.gossipRounds += 1
        let peer = others[Int(nextGossipRandom() % UInt64(others.count))]
        effects.append(.send(.gossip(records: membership.sorted), to: peer))
    }

    /// A member's view arrived: merge it, answer with what is newer here.
    mutating func gossipReceived(_ records: [MemberRecord], from peer: NodeID, nowMs: UInt64, effects: inout [NodeEffect]) {
        let answer = membership.newer(than: records)
        merge(records, nowMs: nowMs)
        if !answer.isEmpty { effects.append(.send(.gossipReply(records: answer), to: peer)) }
    }

    /// Merges records from gossip; every one that advances is a heartbeat for the detector.
    /// A record of this node itself from another life (or a newer one: a peer cannot issue
    /// this node's records) is ignored: only this node speaks for itself.
    mutating func merge(_ records: [MemberRecord], nowMs: UInt64) {
        for record in records where record.node != node && configuration.ring.nodes.contains(record.node) {
            guard membership.merge(record) else { continue }
            statistics.gossipRecordsMerged += 1
            detector.heartbeat(record.node, generation: record.generation, nowMs: nowMs)
        }
    }

    /// True if the coordinator should not count on `peer` now: it was silent past a replica
    /// timeout lately, or the failure detector judges it down.
    func isDown(_ peer: NodeID, nowMs: UInt64) -> Bool {
        peer != node && (suspicions.isSuspected(peer, nowMs: nowMs) || detector.isDown(peer, nowMs: nowMs))
    }

    /// Every member as this node sees it, ascending by node id.
    public func members(nowMs: UInt64) -> [MemberReport] {
        membership.sorted.map { record in
            let own = record.node == node
            return MemberReport(record: record, phi: own ? nil : detector.phi(record.node, nowMs: nowMs),
                                up: own || !isDown(record.node, nowMs: nowMs),
                                lastHeardMs: own ? nowMs : detector.lastHeardMs(record.node))
        }
    }

    /// The next number of the gossip peer generator (splitmix64).
    private mutating func nextGossipRandom() -> UInt64 {
        gossipRandom &+= 0x9E37_79B9_7F4A_7C15
        var z = gossipRandom
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
