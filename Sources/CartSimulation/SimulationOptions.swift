/// Everything that shapes one simulated run. `drawn(seed:)` draws every option from the seed
/// (printed first, so a run's report says what it ran); the command line may pin some.
public struct SimulationOptions: Hashable, Sendable, CustomStringConvertible {
    public var seed: UInt64
    /// Cluster size (N is 3; with 3 nodes there are no fallbacks).
    public var nodes: Int
    /// Simulated clients; clients come in pairs sharing a cart (two devices, one cart) and raw
    /// keys.
    public var clients: Int
    /// Operations each client runs in the safety phase.
    public var operationsPerClient: Int
    /// One-way message delay, ms.
    public var delayMs: ClosedRange<Int>
    /// Share of messages delayed by up to `spikeMs` more (reordering).
    public var spikeRate: Double
    public var spikeMs: Int
    public var lossRate: Double
    public var duplicateRate: Double
    /// Mean time between faults in the safety phase, ms (0: no faults).
    public var faultIntervalMs: Int
    /// Which faults may be drawn.
    public var crashes: Bool
    public var partitions: Bool
    public var diskFaults: Bool
    /// After the replicas converge, replace one node's disk: it restarts empty and
    /// anti-entropy must refill it.
    public var wipe: Bool

    public init(seed: UInt64, nodes: Int, clients: Int, operationsPerClient: Int, delayMs: ClosedRange<Int>,
                spikeRate: Double, spikeMs: Int, lossRate: Double, duplicateRate: Double, faultIntervalMs: Int,
                crashes: Bool, partitions: Bool, diskFaults: Bool, wipe: Bool = false) {
        self.seed = seed
        self.nodes = nodes
        self.clients = clients
        self.operationsPerClient = operationsPerClient
        self.delayMs = delayMs
        self.spikeRate = spikeRate
        self.spikeMs = spikeMs
        self.lossRate = lossRate
        self.duplicateRate = duplicateRate
        self.faultIntervalMs = faultIntervalMs
        self.crashes = crashes
        self.partitions = partitions
        self.diskFaults = diskFaults
        self.wipe = wipe
    }

    /// Every option drawn from `seed`.
    public static func drawn(seed: UInt64) -> SimulationOptions {
        var random = SimulationRandom(seed: seed ^ 0x5EED_0F_0B7105)
        let low = random.inRange(1...5)
        return SimulationOptions(
            seed: seed,
            nodes: random.inRange(3...6),
            clients: 2 * random.inRange(2...3),
            operationsPerClient: random.inRange(15...35),
            delayMs: low...(low + random.inRange(0...20)),
            spikeRate: [0, 0.02, 0.1][random.below(3)],
            spikeMs: random.inRange(50...300),
            lossRate: [0, 0.01, 0.05][random.below(3)],
            duplicateRate: [0, 0.01, 0.05][random.below(3)],
            faultIntervalMs: [0, 700, 1_500, 3_000][random.below(4)],
            crashes: random.chance(0.8),
            partitions: random.chance(0.7),
            diskFaults: random.chance(0.5),
            wipe: random.chance(0.5))
    }

    public var description: String {
        "seed=\(seed) nodes=\(nodes) clients=\(clients) ops/client=\(operationsPerClient) delay=\(delayMs.lowerBound)-\(delayMs.upperBound)ms "
            + "spikes=\(spikeRate)@\(spikeMs)ms loss=\(lossRate) dup=\(duplicateRate) faults=every~\(faultIntervalMs)ms"
            + "[\(crashes ? "crash " : "")\(partitions ? "partition " : "")\(diskFaults ? "disk" : "")]\(wipe ? " wipe" : "")"
    }
}
