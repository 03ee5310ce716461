import CartCluster
@testable import CartServer
import CartStorage
import CartVersioning
import Logging
import NIOPosix
import Testing

/// The node runtime in process, over an in-memory disk that can fail: batches are synced before
/// their answers leave, and a failed sync answers its clients "outcome unknown" instead of
/// leaving them waiting.
@Suite("Node runtime", .timeLimit(.minutes(1)))
struct NodeRuntimeTests {
    struct Node {
        let runtime: NodeRuntime
        let engine: StorageEngine
        let memory: MemoryFileSystem
        let faults: FaultInjectingFileSystem
    }

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func makeNode() throws -> Node {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/data")
        let faults = FaultInjectingFileSystem(wrapping: memory)
        var options = StorageOptions()
        options.fileSystem = faults
        options.sync = .none
        options.logger = Self.quiet
        let engine = try StorageEngine.open("/data", options: options)
        let me = Member(node: 1, http: HostPort(host: "127.0.0.1", port: 0), peer: HostPort(host: "127.0.0.1", port: 0))
        var configuration = NodeConfiguration(node: NodeID(1), ring: try Ring(nodes: [NodeID(1)], partitionBits: 4, targetN: 1))
        configuration.namespaces = [KeyNamespace(prefix: "cart:", policy: .cart, n: 1)]
        configuration.fallbackNamespace = KeyNamespace(prefix: "", policy: .siblings, n: 1)
        configuration.defaultR = 1
        configuration.defaultW = 1
        let storage = try NodeStorage(engine: engine, node: NodeID(1), freshEpoch: 1, treeShape: .standard(partitionBits: 4),
                                      allowUnsyncedAcks: true)
        let transport = PeerTransport(node: NodeID(1), members: [me], listen: me.peer, secret: Array(repeating: 1, count: 32),
                                      group: MultiThreadedEventLoopGroup.singleton, logger: Self.quiet)
        let runtime = try NodeRuntime(configuration: configuration, storage: storage, transport: transport, clock: WallClock(),
                                      logger: Self.quiet)
        runtime.start()
        return Node(runtime: runtime, engine: engine, memory: memory, faults: faults)
    }

    func add(_ sku: String, id: String) -> ClientRequest {
        ClientRequest(key: Array("cart:u".utf8), operation: .cart(.add(sku: sku, quantity: 1, details: CartItemDetails()),
                                                                 id: OperationID(id), observed: nil))
    }

    @Test("an acknowledged write survives a power loss right after its answer")
    func acknowledgedMeansSynced() async throws {
        let node = try makeNode()
        for n in 0..<20 {
            guard case .success(.written) = await node.runtime.submit(add("sku-\(n)", id: "op-\(n)")) else {
                Issue.record("add \(n) not written"); return
            }
        }
        node.runtime.stop()
        _ = node.memory.powerLoss(seed: 3)
        try? node.engine.close()
        var options = StorageOptions()
        options.fileSystem = node.memory
        options.logger = Self.quiet
        let reopened = try StorageEngine.open("/data", options: options)
        defer { try? reopened.close() }
        let store = try ReplicaStore(engine: reopened)
        guard case let .cart(cart)? = try store.read(Array("cart:u".utf8)) else { Issue.record("no cart after power loss"); return }
        #expect(cart.view.items.count == 20, "acknowledged adds lost to a power loss")
    }

    @Test("a failed sync answers its client 'outcome unknown', then every later write is refused")
    func failedSyncAnswersTheClient() async throws {
        let node = try makeNode()
        defer { node.runtime.stop(); try? node.engine.close() }
        guard case .success(.written) = await node.runtime.submit(add("a", id: "op-a")) else { Issue.record("first add"); return }
        node.faults.inject(.init(.sync, pathContains: ".wal"))
        let failed = await node.runtime.submit(add("b", id: "op-b"))
        guard case .failure(.storageFailed) = failed else { Issue.record("expected storageFailed, got \(failed)"); return }
        #expect(node.engine.writeRefusal != nil)
        let refused = await node.runtime.submit(add("c", id: "op-c"))
        guard case .success(.storageFailed) = refused else { Issue.record("expected a storage failure reply, got \(refused)"); return }
        guard case .success(.found) = await node.runtime.submit(ClientRequest(key: Array("cart:u".utf8), operation: .get)) else {
            Issue.record("reads must go on"); return
        }
    }
}
