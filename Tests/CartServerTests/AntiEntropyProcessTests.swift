import CartTestSupport
import Foundation
import Testing

/// Anti-entropy across real `cartstore-server` processes: a node whose data directory is
/// deleted while it is down restarts empty, and the Merkle exchanges alone (no client reads,
/// no hints: nothing was written while it was down) refill it until its roots equal its
/// replicas' (`/admin/status`), with every acknowledged write in its own data directory.
@Suite("Anti-entropy between real servers", .serialized, .timeLimit(.minutes(3)))
struct AntiEntropyProcessTests {
    /// 64 partitions and a 20 ms exchange interval: a full round of a node's partitions takes
    /// about 1.3 s instead of the default's 100 s, so the test waits seconds, not minutes.
    static let arguments = ["--partition-bits", "6", "--anti-entropy-interval-ms", "20"]

    @Test("a node restarted on an empty data directory is refilled by anti-entropy: equal roots, every acknowledged add")
    func wipedNodeIsRefilled() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        for node in 1...3 { try cluster.start(node, extraArguments: Self.arguments) }
        for node in 1...3 { try await cluster.waitReady(node) }

        var acknowledged: [String: [String: Int64]] = [:]
        for n in 0..<90 {
            let user = "refill-\(n % 30)", sku = "sku-\(n)"
            let answer = try await cluster.client.add(cluster.url(n % 3 + 1, "/v1/carts/\(user)/items?w=3"), sku: sku, key: "k-\(n)")
            #expect(answer.status == 200, "add \(user)/\(sku): \(answer.status) \(answer.text)")
            if answer.status == 200 { acknowledged[user, default: [:]][sku, default: 0] += 1 }
        }
        try await waitForEqualRoots(cluster, seconds: 30)

        cluster.kill(2)
        try FileManager.default.removeItem(atPath: cluster.nodes[1].data)
        let started = Date()
        try cluster.start(2, extraArguments: Self.arguments)
        try await cluster.waitReady(2)
        let status = try await waitForEqualRoots(cluster, seconds: 60)
        let keysSent = try await (1...3).asyncMap { node in
            ((try await cluster.client.send("GET", cluster.url(node, "/admin/status")).json["antiEntropy"] as? [String: Any])?["keysSent"] as? Int) ?? 0
        }.reduce(0, +)
        print("anti-entropy refilled node 2 in \(String(format: "%.1f", Date().timeIntervalSince(started))) s "
              + "(\(status.partitions) partitions, \(keysSent) records sent by anti-entropy, \(acknowledged.count) carts)")
        #expect(keysSent >= acknowledged.count, "every cart reached node 2 through anti-entropy")

        cluster.stopAll()
        for (user, items) in acknowledged {
            #expect(try cluster.replicaCart(2, user: user) == items, "refilled replica on node 2 of cart \(user)")
        }
    }

    /// Waits until every node has every tree built and the three nodes' roots are equal
    /// partition by partition (with 3 nodes and N = 3, each node replicates every partition).
    @discardableResult
    private func waitForEqualRoots(_ cluster: ServerCluster, seconds: Double) async throws -> (partitions: Int, roots: [String: String]) {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            var views: [[String: String]] = []
            for node in 1...3 {
                let answer = try await cluster.client.send("GET", cluster.url(node, "/admin/status"))
                guard let antiEntropy = answer.json["antiEntropy"] as? [String: Any],
                      let roots = antiEntropy["roots"] as? [String: Any] else { throw ServerCluster.Failure("no antiEntropy in \(answer.text)") }
                // Every replicated partition is listed, unbuilt ones as null.
                #expect(roots.count == 64, "node \(node) lists \(roots.count) partitions: \(answer.text.prefix(300))")
                views.append(roots.compactMapValues { $0 as? String })
                last = "node \(node): \(antiEntropy["partitionsBuilt"] ?? "?") built, \(roots.count) roots"
            }
            if let first = views.first, !first.isEmpty, views.allSatisfy({ $0 == first && $0.count == 64 }) {
                return (first.count, first)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerCluster.Failure("roots not equal on all nodes within \(seconds) s (\(last))")
    }
}

extension ClosedRange where Bound == Int {
    /// The results of `transform` on each element, in order, one at a time.
    fileprivate func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
