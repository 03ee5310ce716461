import CartVersioning
import Testing
@testable import CartCluster

/// The request path of one node and its peers: quorums, forwarding, read repair, sloppy quorum
/// and hinted handoff, validation, and never hanging.
@Suite struct ClusterNodeTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    func add(_ sku: String, _ quantity: Int64 = 1, id: String) -> ClientRequest.Operation {
        .cart(.add(sku: sku, quantity: quantity, details: CartItemDetails(name: sku)), id: OperationID(id), observed: nil)
    }

    func record(_ cluster: TestCluster, _ node: NodeID, _ key: [UInt8]) throws -> StoredRecord? {
        try cluster.node(node).storage.replicas.read(key)
    }

    @Test func aGetAnswersAfterRAndRepairsTheReplicaThatMissedTheWrite() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        cluster.down = [n3]
        let put = cluster.call(ClientRequest(key: key, operation: .put(value: [7], context: nil), r: 1, w: 2), at: n1)
        guard case let .written(written, _, _, acks)? = put else { Issue.record("put: \(String(describing: put))"); return }
        #expect(acks == 2)
        #expect(try record(cluster, n3, key) == nil)
        cluster.down = []
        let get = cluster.call(ClientRequest(key: key, operation: .get, r: 2), at: n2)
        #expect(get == .found(written))
        cluster.run(forMs: 1_000)
        #expect(try record(cluster, n3, key) == written, "read repair brought n3 up to date")
        let repairs = cluster.sent.filter { if case .repair = $0.message { return true } else { return false } }
        #expect(repairs.map(\.to) == [n3], "only the stale replica is repaired")
    }

    @Test func aMutationAtANonReplicaIsForwardedAndMovesOnWhenTheFirstReplicaIsSilent() throws {
        let cluster = try TestCluster(nodes: 4)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        cluster.down = [n1]
        let reply = cluster.call(ClientRequest(key: key, operation: add("A", id: "op-1")), at: n4)
        guard case let .written(.cart(cart), _, false, acks)? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(cart.item("A")?.quantity == 1 && acks >= 2)
        let forwards = cluster.sent.filter { if case .forward = $0.message { return true } else { return false } }
        #expect(forwards.map(\.to) == [n1, n2], "n1 never took it; n2 did")
        #expect(cluster.node(n4).statistics.forwarded == 1)
    }

    @Test func aSloppyWriteCountsTowardWAndItsHintReachesTheOwner() throws {
        let cluster = try TestCluster(nodes: 4)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        cluster.down = [n2, n3]
        let reply = cluster.call(ClientRequest(key: key, operation: add("A", 2, id: "op-1"), w: 2), at: n1)
        guard case let .written(written, _, _, 2)? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(cluster.node(n4).hintsPending == 1, "n4 stood in for one replica")
        #expect(try record(cluster, n4, key) == nil, "a hint is not a replica")
        cluster.run(forMs: 1_000)
        #expect(cluster.node(n1).hintsPending == 1, "with no node left to stand in for the other, the coordinator keeps its hint")
        cluster.down = []
        cluster.run(forMs: 6_000)
        #expect(cluster.node(n4).hintsPending == 0 && cluster.node(n1).hintsPending == 0)
        #expect(cluster.node(n4).statistics.hintsDelivered == 1 && cluster.node(n1).statistics.hintsDelivered == 1)
        let owners = try [n2, n3].filter { try record(cluster, $0, key) == written }
        #expect(owners.count == 2, "both hinted owners hold the write")
    }

    @Test func aRequestThatCannotReachItsQuorumAnswersATypedErrorBeforeItsDeadline() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        cluster.down = [n2, n3]
        let start = cluster.nowMs
        let get = cluster.call(ClientRequest(key: key, operation: .get, r: 2, timeoutMs: 5_000), at: n1)
        guard case let .unavailable(.unreachable(needed, answered, failed, replicas))? = get else {
            Issue.record("\(String(describing: get))"); return
        }
        #expect((needed, answered, failed, replicas) == (2, 1, 2, 3))
        #expect(cluster.nowMs - start < 5_000, "answered at the replica timeout, not the deadline")
        let put = cluster.call(ClientRequest(key: key, operation: .put(value: [1], context: nil), w: 3, timeoutMs: 1_000), at: n1)
        guard case .unavailable? = put else { Issue.record("\(String(describing: put))"); return }
        #expect(cluster.node(n1).requestsInFlight == 0)
    }

    @Test func badRequestsAreRejectedBeforeAnythingIsSent() throws {
        let cluster = try TestCluster(nodes: 3)
        let cartKey = Array("cart:1".utf8), rawKey = Array("kv:1".utf8)
        let cases: [(ClientRequest, RequestRejection)] = [
            (ClientRequest(key: rawKey, operation: .get, r: 0), .invalidQuorum(.r(0, n: 3))),
            (ClientRequest(key: rawKey, operation: .get, w: 4), .invalidQuorum(.w(4, n: 3))),
            (ClientRequest(key: rawKey, operation: .get, timeoutMs: 0), .invalidTimeout(ms: 0, maxMs: 60_000)),
            (ClientRequest(key: [], operation: .get), .invalidKey(bytes: 0, max: ReplicaStore.keyBytesMax)),
            (ClientRequest(key: rawKey, operation: add("A", id: "x")), .wrongKind(policy: .siblings)),
            (ClientRequest(key: cartKey, operation: .put(value: [1], context: nil)), .wrongKind(policy: .cart)),
        ]
        for (request, rejection) in cases {
            #expect(cluster.call(request, at: n1) == .rejected(rejection))
        }
        let requestPath = cluster.sent.filter {
            switch $0.message {
            case .gossip, .gossipReply: return false
            default: return true
            }
        }
        #expect(requestPath.isEmpty, "gossip aside, nothing was sent")
        let unknownItem = ClientRequest(key: cartKey, operation: .cart(.changeQuantity(sku: "nope", delta: 1), id: OperationID("c"), observed: nil))
        #expect(cluster.call(unknownItem, at: cluster.ring.preferenceList(forKey: cartKey, n: 3)[0]) == .rejected(.cart(.itemNotFound(sku: "nope"))))
    }

    @Test func aRetryThroughAnotherCoordinatorAppliesOnce() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        let first = cluster.call(ClientRequest(key: key, operation: add("A", 3, id: "op-7")), at: n1)
        guard case let .written(_, dot, false, _)? = first else { Issue.record("\(String(describing: first))"); return }
        let retry = cluster.call(ClientRequest(key: key, operation: add("A", 3, id: "op-7")), at: n3)
        guard case let .written(.cart(cart), again, true, _)? = retry else { Issue.record("\(String(describing: retry))"); return }
        #expect(again == dot && cart.item("A")?.quantity == 3)
    }

    @Test func aDeleteLeavesATombstoneThatRepairReconciles() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        let put = cluster.call(ClientRequest(key: key, operation: .put(value: [1], context: nil), w: 3), at: n1)
        guard case let .written(.siblings(set), _, _, _)? = put else { Issue.record("\(String(describing: put))"); return }
        cluster.down = [n3]
        let delete = cluster.call(ClientRequest(key: key, operation: .delete(context: set.context), w: 2), at: n1)
        guard case .written? = delete else { Issue.record("\(String(describing: delete))"); return }
        cluster.down = []
        let get = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n2)
        guard case let .found(.siblings(read))? = get else { Issue.record("\(String(describing: get))"); return }
        #expect(read.readsAsDeleted)
        cluster.run(forMs: 1_000)
        guard case let .siblings(held)? = try record(cluster, n3, key) else { Issue.record("n3 holds nothing"); return }
        #expect(held.readsAsDeleted, "the stale replica took the tombstone")
    }

    @Test func readRepairsAreRateLimited() throws {
        let cluster = try TestCluster(nodes: 3) { configuration in
            configuration.readRepairsPerSecond = 1
            configuration.readRepairBurst = 2
        }
        cluster.down = [n3]
        var keys: [[UInt8]] = []
        for i in 0..<5 {
            let key = cluster.key(prefix: "kv:r\(i)-", replicas: [n1, n2, n3])
            keys.append(key)
            _ = cluster.call(ClientRequest(key: key, operation: .put(value: [1], context: nil), w: 2), at: n1)
        }
        cluster.down = []
        for key in keys { _ = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n1) }
        cluster.run(forMs: 100)
        let statistics = cluster.node(n1).statistics
        #expect(statistics.readRepairsSent == 2 && statistics.readRepairsSkipped == 3)
    }
}

@Suite struct NodeConfigurationTests {
    @Test func aConfigurationANodeCannotRunIsRefusedWithItsReason() throws {
        let ring = try Ring(nodes: [NodeID(1), NodeID(2), NodeID(3)], partitionBits: 4)
        #expect(throws: NodeConfiguration.Invalid.nodeNotOnRing(NodeID(9))) { try NodeConfiguration(node: NodeID(9), ring: ring).validate() }
        var configuration = NodeConfiguration(node: NodeID(1), ring: ring)
        try configuration.validate()
        configuration.readRepairsPerSecond = -1
        #expect(throws: NodeConfiguration.Invalid.notPositive("readRepairsPerSecond")) { try configuration.validate() }
        configuration.readRepairsPerSecond = 10
        configuration.replicaTimeoutMs = 0
        #expect(throws: NodeConfiguration.Invalid.notPositive("replicaTimeoutMs")) { try configuration.validate() }
        configuration.replicaTimeoutMs = 400
        configuration.namespaces = [KeyNamespace(prefix: "x:", policy: .siblings, n: 0)]
        #expect(throws: NodeConfiguration.Invalid.replicas(configuration.namespaces[0])) { try configuration.validate() }
    }
}
