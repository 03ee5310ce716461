import CartCluster
import CartTestSupport
import Foundation
import Testing

/// Three real `cartstore-server` processes on 127.0.0.1: crashes, restarts, hints, concurrent
/// devices, a node without the secret, and SIGTERM under load. Every acknowledged write is
/// checked, through the API and, with the nodes stopped, in each replica's own data directory.
@Suite("Real server processes", .serialized, .timeLimit(.minutes(3)))
struct ClusterProcessTests {
    @Test("kill -9 during W=2 writes, restart, hints delivered, full restart: every acknowledged add on every replica")
    func killRestartAndHints() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        var acknowledged: [String: [String: Int64]] = [:]
        func add(through node: Int, user: String, sku: String, key: String) async throws {
            let answer = try await cluster.client.add(cluster.url(node, "/v1/carts/\(user)/items?w=2"), sku: sku, key: key)
            #expect(answer.status == 200, "add \(user)/\(sku) through node \(node): \(answer.status) \(answer.text)")
            if answer.status == 200 { acknowledged[user, default: [:]][sku, default: 0] += 1 }
        }
        for n in 0..<12 { try await add(through: n % 3 + 1, user: "u\(n % 4)", sku: "before-\(n)", key: "k-before-\(n)") }
        cluster.kill(2)
        for n in 0..<24 { try await add(through: n % 2 == 0 ? 1 : 3, user: "u\(n % 4)", sku: "during-\(n)", key: "k-during-\(n)") }
        // Once node 2 stayed silent past the replica timeout, the coordinators keep hints for it
        // (no other node is free to stand in).
        try await ServerCluster.waitUntil("hints held for the killed node", seconds: 10) {
            var held = 0
            for node in [1, 3] {
                let hints = try await cluster.client.send("GET", cluster.url(node, "/admin/status")).json["hintsPending"] as? [String: Int]
                held += hints?["2"] ?? 0
            }
            return held > 0
        }

        try cluster.start(2)
        try await cluster.waitReady(2)
        try await ServerCluster.waitUntil("hints delivered", seconds: 20) {
            var held = 0
            for node in 1...3 {
                let hints = try await cluster.client.send("GET", cluster.url(node, "/admin/status")).json["hintsPending"] as? [String: Int]
                held += hints?.values.reduce(0, +) ?? 0
            }
            return held == 0
        }
        for node in 1...3 { #expect(try cluster.terminate(node) == 0, "node \(node) exit status") }
        try await cluster.startAll()
        for (user, items) in acknowledged {
            for node in 1...3 {
                let cart = try await cluster.client.send("GET", cluster.url(node, "/v1/carts/\(user)?r=3")).cartItems
                #expect(cart == items, "cart \(user) read through node \(node)")
            }
        }
        cluster.stopAll()
        for (user, items) in acknowledged {
            for node in 1...3 {
                #expect(try cluster.replicaCart(node, user: user) == items, "replica on node \(node) of cart \(user)")
            }
        }
    }

    @Test("two devices, one cart: concurrent adds both count, a concurrent remove keeps the add, a retry applies once")
    func twoDevices() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        let items1 = cluster.url(1, "/v1/carts/ana/items"), items2 = cluster.url(2, "/v1/carts/ana/items")
        async let phone = client.add(items1, sku: "mug", key: "phone-1")
        async let laptop = client.add(items2, sku: "mug", key: "laptop-1")
        let (first, second) = try await (phone, laptop)
        #expect(first.status == 200 && second.status == 200)
        #expect(try await client.send("GET", cluster.url(3, "/v1/carts/ana")).cartItems == ["mug": 2])

        _ = try await client.add(cluster.url(1, "/v1/carts/ana/items"), sku: "pen", key: "phone-2")
        let seen = try await client.send("GET", cluster.url(1, "/v1/carts/ana"))
        let context = try #require(seen.headers["x-causal-context"])
        let pen1 = cluster.url(1, "/v1/carts/ana/items/pen")
        async let removal = client.send("DELETE", pen1, headers: ["X-Causal-Context": context, "Idempotency-Key": "phone-3"])
        async let addition = client.add(items2, sku: "pen", key: "laptop-2")
        let (removed, added) = try await (removal, addition)
        #expect(removed.status == 200 && added.status == 200, "\(removed.text) \(added.text)")
        #expect(try await client.send("GET", cluster.url(3, "/v1/carts/ana?r=3")).cartItems == ["mug": 2, "pen": 1])

        let once = try await client.add(cluster.url(1, "/v1/carts/ana/items"), sku: "cup", key: "retry-me")
        let again = try await client.add(cluster.url(3, "/v1/carts/ana/items"), sku: "cup", key: "retry-me")
        #expect(once.status == 200 && again.status == 200)
        #expect(once.headers["idempotent-replayed"] == nil)
        #expect(again.headers["idempotent-replayed"] == "true")
        #expect(try await client.send("GET", cluster.url(2, "/v1/carts/ana?r=3")).cartItems == ["mug": 2, "pen": 1, "cup": 1])
        let unicode = try await client.add(cluster.url(2, "/v1/carts/%E3%83%A6%E3%83%BC%E3%82%B6/items"), sku: "☕ cup", key: "u-1")
        #expect(unicode.status == 200)
        #expect(try await client.send("GET", cluster.url(1, "/v1/carts/%E3%83%A6%E3%83%BC%E3%82%B6")).cartItems == ["☕ cup": 1])
    }

    @Test("a node with a wrong secret is refused: its reads, writes and hints never land, and the logs say why")
    func wrongSecret() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try cluster.useWrongSecret(3)
        try await cluster.startAll()
        let good = try await cluster.client.add(cluster.url(1, "/v1/carts/good/items"), sku: "a", key: "g-1")
        #expect(good.status == 200)
        let bad = try await cluster.client.add(cluster.url(3, "/v1/carts/evil/items?timeout_ms=1500"), sku: "x", key: "e-1")
        #expect(bad.status == 503, "a write through the node without the secret: \(bad.status) \(bad.text)")
        let read = try await cluster.client.send("GET", cluster.url(3, "/v1/carts/good?r=2&timeout_ms=1500"))
        #expect(read.status == 503, "a quorum read through the node without the secret: \(read.status) \(read.text)")
        try await Task.sleep(for: .seconds(2.5))  // hint deliveries from node 3 are attempted (and refused)
        let members = try await cluster.client.send("GET", cluster.url(1, "/admin/members")).json["members"] as? [[String: Any]]
        let third = members?.first { $0["node"] as? String == "3" }
        #expect(third?["status"] as? String == "down")
        let refused = (try await cluster.client.send("GET", cluster.url(1, "/admin/status")).json["transport"] as? [String: Int])?["handshakesRefused"]
        #expect((refused ?? 0) > 0)
        cluster.stopAll()
        #expect(cluster.logText(1).contains("does not hold the cluster secret") || cluster.logText(2).contains("does not hold the cluster secret"))
        #expect(cluster.logText(3).contains("does not hold the cluster secret"))
        for node in 1...2 { #expect(try cluster.replicaCart(node, user: "evil").isEmpty, "node \(node) took a write from node 3") }
        #expect(try cluster.replicaCart(3, user: "good").isEmpty, "node 3 received a replica it must not")
        #expect(try cluster.replicaCart(3, user: "evil") == ["x": 1], "node 3 keeps its own write and hint")
    }

    @Test("SIGTERM under load: exit 0, in-flight requests answered, no acknowledged write lost")
    func sigtermUnderLoad() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        let bases = [cluster.url(1, ""), cluster.url(2, "")]
        let stop = Date().addingTimeInterval(3)
        let terminateAt = Date().addingTimeInterval(1.2)
        let results = try await withThrowingTaskGroup(of: [(user: String, sku: String, node: Int, acknowledged: Bool)].self) { group in
            for writer in 0..<12 {
                group.addTask {
                    var log: [(user: String, sku: String, node: Int, acknowledged: Bool)] = []
                    var n = 0
                    while Date() < stop {
                        let node = writer % 2 == 0 ? 1 : 2
                        let sku = "w\(writer)-\(n)"
                        let answer = try? await client.add(bases[node - 1] + "/v1/carts/load\(writer % 4)/items", sku: sku,
                                                           key: "load-\(writer)-\(n)")
                        log.append((user: "load\(writer % 4)", sku: sku, node: node, acknowledged: answer?.status == 200))
                        n += 1
                        if answer == nil { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    return log
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(max(0, terminateAt.timeIntervalSinceNow)))
                return []
            }
            var all: [(user: String, sku: String, node: Int, acknowledged: Bool)] = []
            var terminated = false
            while let batch = try await group.next() {
                if !terminated {
                    terminated = true
                    #expect(try cluster.terminate(1) == 0, "node 1 exit status after SIGTERM")
                }
                all += batch
            }
            return all
        }
        let acknowledged = results.filter(\.acknowledged)
        #expect(acknowledged.count > 20, "too little load: \(acknowledged.count) acknowledged")
        #expect(acknowledged.contains { $0.node == 1 })
        #expect(cluster.logText(1).contains("stopped"))
        for user in Set(acknowledged.map(\.user)) {
            let cart = try await cluster.client.send("GET", cluster.url(2, "/v1/carts/\(user)?r=2")).cartItems
            for write in acknowledged where write.user == user {
                #expect(cart[write.sku] == 1, "acknowledged \(write.sku) of \(user) (through node \(write.node)) is missing")
            }
        }
    }

}

/// `--exit-with-parent`: a server whose starting process exits shuts itself down (so a crashed
/// test runner or supervisor leaves no server behind).
@Suite("Server lifetime", .timeLimit(.minutes(1)))
struct ServerLifetimeTests {
    @Test("a server started with --exit-with-parent exits once its parent has")
    func exitsWithParent() async throws {
        let cluster = try ServerCluster(nodes: 1)
        let node = cluster.nodes[0]
        let pidFile = node.directory + "/child.pid"
        let server = BuiltProducts.path("cartstore-server")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\"$0\" --data \"$1\" --http 127.0.0.1:$2 --peer 127.0.0.1:$3 --exit-with-parent >> \"$4\" 2>&1 & echo $! > \"$5\"; sleep 2",
                           server, node.data, "\(node.http)", "\(node.peer)", node.log, pidFile]
        try shell.run()
        shell.waitUntilExit()
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let deadline = Date().addingTimeInterval(15)
        while kill(pid, 0) == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let alive = kill(pid, 0) == 0
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "the server outlived its parent:\n\(cluster.tail(1))")
        #expect(cluster.logText(1).contains("the parent process exited"))
    }
}
