import CartCluster

/// `cartstore-sim scale`'s gossip column: how many rounds of push-pull gossip (every node sends
/// its view to one random member per round, and merges the newer records the member answers,
/// Cassandra's gossiper) pass before every node knows one member's change, measured with the
/// real `MembershipView` merge and the wire codec's sizes.
public enum GossipStudy {
    public struct Row: Sendable {
        public let nodes: Int
        /// Rounds until every node held the change: median and maximum over the trials.
        public let medianRounds: Int
        public let maxRounds: Int
        /// Bytes of one full-view gossip message (what each node sends per round).
        public let viewBytes: Int
    }

    /// Runs `trials` seeded trials on `nodes` members.
    public static func rounds(nodes: Int, trials: Int, seed: UInt64) throws -> Row {
        var random = SimulationRandom(seed: seed)
        var rounds: [Int] = []
        let ids = (1...nodes).map { NodeID(UInt64($0)) }
        let initial = MembershipView(ids.map {
            MemberRecord(node: $0, address: "10.0.\($0.value / 256).\($0.value % 256):7000", generation: 1, version: 1, status: .normal)
        })
        let viewBytes = try ClusterMessageCodec.encode(.gossip(records: initial.sorted)).count
        for _ in 0..<trials {
            var views = [MembershipView](repeating: initial, count: nodes)
            // Member 0 changes (a new heartbeat or status): only it knows at first.
            var change = initial[ids[0]]!
            change.version += 1
            change.status = .leaving
            views[0].merge(change)
            var round = 0
            while !views.allSatisfy({ $0[ids[0]] == change }) {
                round += 1
                for sender in 0..<nodes {
                    var peer = random.below(nodes - 1)
                    if peer >= sender { peer += 1 }
                    let pushed = views[sender].sorted
                    let answer = views[peer].newer(than: pushed)
                    for record in pushed { views[peer].merge(record) }
                    for record in answer { views[sender].merge(record) }
                }
            }
            rounds.append(round)
        }
        rounds.sort()
        return Row(nodes: nodes, medianRounds: rounds[rounds.count / 2], maxRounds: rounds.last ?? 0, viewBytes: viewBytes)
    }
}
