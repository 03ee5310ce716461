import CartCluster
import CartStorage
import Logging

/// One node of the simulated cluster: its disk (an in-memory file system behind the
/// fault-injecting one), its engine in manual background mode, and its `ClusterNode` while up.
/// A crash is a power loss of its disk: what was not synced is lost, open handles die, and the
/// in-memory state goes; a restart reopens the engine on what survived.
final class SimulatedNode {
    let id: NodeID
    private(set) var memory = MemoryFileSystem()
    private(set) var disk: FaultInjectingFileSystem
    /// The replica epoch a fresh directory takes: bumped by `wipe`, so that a node that lost
    /// its data never reissues the dots of its earlier life.
    private(set) var freshEpoch: UInt32 = 1
    private(set) var engine: StorageEngine?
    var protocolNode: ClusterNode?
    /// Bumped at every start, so that timers and messages of an earlier life are dropped.
    private(set) var incarnation = 0
    /// Counters of earlier lives.
    private(set) var pastStatistics = NodeStatistics()
    /// Client requests this node holds (answered with a lost connection if it crashes).
    var clientsWaiting: [ClientTag] = []
    /// True while injected disk faults are armed (the node is crashed and restarted soon after).
    var diskFaulty = false

    static let directory = "/data"

    init(id: NodeID) {
        self.id = id
        disk = FaultInjectingFileSystem(wrapping: memory)
    }

    var isUp: Bool { protocolNode != nil }

    var statistics: NodeStatistics { pastStatistics + (protocolNode?.statistics ?? NodeStatistics()) }

    static func engineOptions(disk: any FileSystem) -> StorageOptions {
        var options = StorageOptions()
        options.fileSystem = disk
        options.backgroundMode = .manual
        options.sync = .always
        options.memtableBytes = 32 << 10
        options.blockBytes = 4 << 10
        options.blockCacheBytes = 256 << 10
        options.targetSegmentBytes = 64 << 10
        options.levelBaseBytes = 256 << 10
        options.compression = .none
        options.logger = Logger(label: "cartstore.sim", factory: { _ in SwiftLogNoOpLogHandler() })
        return options
    }

    /// Opens the engine and the node; returns the start effects, or why it could not open.
    func start(configuration: NodeConfiguration, nowMs: UInt64) -> Result<[NodeEffect], any Error> {
        precondition(!isUp, "\(id) started twice")
        do {
            let engine = try StorageEngine.open(Self.directory, options: Self.engineOptions(disk: disk))
            let storage = try NodeStorage(engine: engine, node: id, freshEpoch: freshEpoch, startMs: nowMs,
                                          treeShape: .standard(partitionBits: configuration.ring.partitionBits))
            var node = try ClusterNode(configuration: configuration, storage: storage, nowMs: nowMs)
            incarnation += 1
            self.engine = engine
            let effects = node.start(nowMs: nowMs)
            protocolNode = node
            return .success(effects)
        } catch {
            return .failure(error)
        }
    }

    /// Power loss: keeps what was synced (and a seeded part of the rest, as a disk would).
    func crash(seed: UInt64) {
        if let node = protocolNode { pastStatistics = pastStatistics + node.statistics }
        // The power goes first: nothing the dropped engine does afterwards reaches the disk.
        memory.powerLoss(seed: seed)
        protocolNode = nil
        engine = nil
        disk.clearFaults()
        diskFaulty = false
    }

    /// The operator replaced the disk of a crashed node: it restarts empty, with a new epoch.
    func wipe() {
        precondition(!isUp, "\(id) wiped while up")
        memory = MemoryFileSystem()
        disk = FaultInjectingFileSystem(wrapping: memory)
        freshEpoch += 1
    }

    /// Runs one step of the engine's flushes and compactions (an I/O error surfaces on the
    /// next write, which the node reports as a storage failure).
    func backgroundStep() {
        _ = try? engine?.runBackgroundWork(maxSteps: 1)
    }
}
