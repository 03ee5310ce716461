import ArgumentParser
import CartSimulation
import Foundation

/// `cartstore-sim scale`: placement balance, data moved by a join, Merkle exchange cost and
/// gossip dissemination, for 10, 100 and 1,000 nodes (see `ScaleStudy`, `GossipStudy`).
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Measure placement balance, keys moved by a join, anti-entropy exchange cost and gossip rounds as the cluster grows.")

    @Option(help: "Synthetic cart keys placed on the ring.")
    var keys = 1_000_000

    @Option(help: "Keys held by the two replicas of the exchange measurement.")
    var exchangeKeys = 20_000

    func run() throws {
        print("Placement (N = 3, \(keys) keys; balance counts every replica)")
        print("nodes  partitions  max/mean  min/mean  moved by one join  ideal 1/(S+1)  moved to others")
        for (nodes, bits) in [(10, 10), (100, 12), (1_000, 14)] {
            let row = try ScaleStudy.placement(nodes: nodes, partitionBits: bits, keys: keys)
            print(String(format: "%5d  %10d  %8.3f  %8.3f  %16.4f  %13.4f  %15.4f", row.nodes, 1 << row.partitionBits, row.maxOverMean,
                         row.minOverMean, row.movedOnJoin, row.idealMoved, row.movedElsewhere))
        }
        print("")
        print("Merkle exchange, one round of every partition (2^10 partitions × 64 leaves), \(exchangeKeys) keys")
        print("differing  tree bytes  repair bytes  keys sent  partitions descended  converged")
        for differing in [0, 1, 10, 100, 1_000] {
            let row = try ScaleStudy.exchange(keys: exchangeKeys, differing: differing, partitionBits: 10)
            print(String(format: "%9d  %10d  %12d  %9d  %20d  %@", row.differing, row.treeBytes, row.repairBytes, row.keysSent,
                         row.descents, row.converged ? "yes" : "NO"))
        }
        print("")
        print("Gossip rounds until every node knows one member's change (push-pull, one random peer per node per round; 20 trials, 5 for 1,000 nodes)")
        print("nodes  median rounds  max rounds  view message bytes")
        for nodes in [10, 100, 1_000] {
            let row = try GossipStudy.rounds(nodes: nodes, trials: nodes >= 1_000 ? 5 : 20, seed: UInt64(nodes))
            print(String(format: "%5d  %13d  %10d  %18d", row.nodes, row.medianRounds, row.maxRounds, row.viewBytes))
        }
    }
}
