import CartStorage
import CartVersioning
@testable import CartCluster

/// A minimal driver for `ClusterNode` tests: every node over its own in-memory engine, messages
/// delivered 1 ms after they are sent (in order) unless the link is down, timers fired in time
/// order. No randomness: each test sets up exactly the situation it checks.
final class TestCluster {
    private(set) var nodes: [NodeID: ClusterNode] = [:]
    let ring: Ring
    private(set) var nowMs: UInt64 = 1_000
    /// Nodes whose messages are lost both ways (as if crashed, keeping their state).
    var down: Set<NodeID> = []
    /// Every message sent, in order (for assertions on what went where).
    private(set) var sent: [(from: NodeID, to: NodeID, message: ClusterMessage)] = []
    private(set) var replies: [ClientTag: ClientReply] = [:]
    private var pending: [(at: UInt64, order: Int, node: NodeID, event: NodeEvent)] = []
    private var order = 0
    private var nextTag: UInt64 = 0

    init(nodes count: Int, configure: (inout NodeConfiguration) -> Void = { _ in }) throws {
        let ids = (1...count).map { NodeID(UInt64($0)) }
        ring = try Ring(nodes: ids, partitionBits: 6, targetN: 3)
        for id in ids {
            var node = try Self.makeNode(id, ring: ring, nowMs: nowMs, configure: configure)
            let effects = node.start(nowMs: nowMs)
            nodes[id] = node
            perform(effects, from: id)
        }
    }

    func node(_ id: NodeID) -> ClusterNode { nodes[id]! }

    /// A node of `ring` over its own in-memory engine (background work run by hand), with the
    /// carts and `kv:` namespaces, then `configure`d; not started.
    static func makeNode(_ id: NodeID, ring: Ring, nowMs: UInt64,
                         configure: (inout NodeConfiguration) -> Void = { _ in }) throws -> ClusterNode {
        var options = StorageOptions()
        options.fileSystem = MemoryFileSystem()
        options.backgroundMode = .manual
        let engine = try StorageEngine.open("/n\(id.value)", options: options)
        let storage = try NodeStorage(engine: engine, node: id, freshEpoch: 1, treeShape: .standard(partitionBits: ring.partitionBits))
        var configuration = NodeConfiguration(node: id, ring: ring)
        configuration.namespaces = [.carts, KeyNamespace(prefix: "kv:", policy: .siblings)]
        configure(&configuration)
        return try ClusterNode(configuration: configuration, storage: storage, nowMs: nowMs)
    }

    /// A key whose replicas are `replicas`, in order (searched over `prefix` + a counter).
    func key(prefix: String, replicas: [NodeID]) -> [UInt8] { Self.key(in: ring, prefix: prefix, replicas: replicas) }

    /// A key of `ring` whose replicas (N = 3) are `replicas`, in order.
    static func key(in ring: Ring, prefix: String, replicas: [NodeID]) -> [UInt8] {
        for i in 0..<100_000 {
            let key = Array("\(prefix)\(i)".utf8)
            if ring.preferenceList(forKey: key, n: 3) == replicas { return key }
        }
        preconditionFailure("no key with replicas \(replicas)")
    }

    /// Sends `request` to `node` as a client; returns its tag.
    @discardableResult
    func request(_ request: ClientRequest, at node: NodeID) -> ClientTag {
        nextTag += 1
        let tag = ClientTag(nextTag)
        enqueue(.client(request, client: tag), to: node, at: nowMs)
        return tag
    }

    /// Runs events until none is due before `untilMs` (relative to now).
    func run(forMs span: UInt64) {
        let end = nowMs + span
        while let index = pending.indices.min(by: { (pending[$0].at, pending[$0].order) < (pending[$1].at, pending[$1].order) }),
              pending[index].at <= end {
            let next = pending.remove(at: index)
            nowMs = max(nowMs, next.at)
            guard !down.contains(next.node) || isTimerOrClient(next.event) else { continue }
            if down.contains(next.node) { continue }
            let effects = nodes[next.node]!.handle(next.event, nowMs: nowMs)
            if let problem = nodes[next.node]!.checkInvariants(nowMs: nowMs) { preconditionFailure(problem) }
            perform(effects, from: next.node)
        }
        nowMs = end
    }

    /// Runs one client request to its reply (at most its deadline plus a margin).
    func call(_ request: ClientRequest, at node: NodeID) -> ClientReply? {
        let tag = self.request(request, at: node)
        let deadline = nowMs + 70_000
        while replies[tag] == nil && nowMs < deadline { run(forMs: 10) }
        return replies[tag]
    }

    private func isTimerOrClient(_ event: NodeEvent) -> Bool {
        if case .message = event { return false }
        return true
    }

    private func enqueue(_ event: NodeEvent, to node: NodeID, at: UInt64) {
        order += 1
        pending.append((at, order, node, event))
    }

    private func perform(_ effects: [NodeEffect], from node: NodeID) {
        for effect in effects {
            switch effect {
            case let .send(message, to):
                sent.append((node, to, message))
                guard !down.contains(node), !down.contains(to) else { continue }
                enqueue(.message(message, from: node), to: to, at: nowMs + 1)
            case let .setTimer(timer, atMs):
                enqueue(.timer(timer), to: node, at: max(atMs, nowMs))
            case let .reply(reply, client):
                precondition(replies[client] == nil, "client \(client) answered twice")
                replies[client] = reply
            }
        }
    }
}
