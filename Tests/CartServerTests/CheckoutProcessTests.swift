import CartTestSupport
import Foundation
import Testing

/// Checkout across real `cartstore-server` processes on 127.0.0.1: the same checkout sent
/// concurrently through every node yields one order; a replica that is down makes a checkout
/// unavailable without deciding anything, and after its restart the same key checks out once;
/// client mistakes are 4xx; the `cartstore` CLI's `checkout` and `order` verbs.
///
/// Nothing here is randomized: the only nondeterminism is the interleaving of the concurrent
/// attempts, and every failure message carries the log of answers that led to it.
@Suite("Checkout between real servers", .serialized, .timeLimit(.minutes(3)))
struct CheckoutProcessTests {
    /// The server's deadline for one checkout attempt (several Paxos rounds fit in it).
    static let timeoutMs = 5_000
    /// Attempts of one client before the test gives up on a checkout.
    static let attemptsMax = 30

    /// One answer to one checkout attempt, for the failure messages.
    struct Attempt: Sendable, CustomStringConvertible {
        var node: Int
        var number: Int
        var answer: TestHTTPClient.Answer
        var description: String {
            "node \(node) attempt \(number): \(answer.status) replayed=\(answer.headers["idempotent-replayed"] ?? "-") \(answer.text.prefix(240))"
        }
    }

    @Test("one key sent concurrently through three nodes, retried until answered: one order, at most one 201, cart emptied")
    func concurrentRetries() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        let expected: [String: Int64] = ["cup": 3, "mug": 2, "pen": 1]
        try await addItem(cluster, node: 1, user: "u", sku: "mug", quantity: 2, priceMinor: 1299, key: "add-mug")
        try await addItem(cluster, node: 2, user: "u", sku: "pen", quantity: 1, priceMinor: 250, key: "add-pen")
        try await addItem(cluster, node: 3, user: "u", sku: "cup", quantity: 3, priceMinor: 500, key: "add-cup")

        let key = "co-" + UUID().uuidString.prefix(8).lowercased()
        let urls = (1...3).map { cluster.url($0, "/v1/carts/u/checkout?timeout_ms=\(Self.timeoutMs)") }
        let attempts = try await withThrowingTaskGroup(of: [Attempt].self) { group in
            for node in 1...3 {
                group.addTask {
                    var log: [Attempt] = []
                    for number in 1...Self.attemptsMax {
                        let answer = try await client.send("POST", urls[node - 1], headers: ["Idempotency-Key": key])
                        log.append(Attempt(node: node, number: number, answer: answer))
                        guard Self.isRetryable(answer) else { break }
                        try await Task.sleep(for: .milliseconds(10 * number))
                    }
                    return log
                }
            }
            var all: [Attempt] = []
            for try await log in group { all += log }
            return all
        }
        let history = attempts.map(\.description).joined(separator: "\n")
        for node in 1...3 {
            let last = try #require(attempts.last { $0.node == node }, "no attempt through node \(node)")
            #expect([200, 201].contains(last.answer.status), "the client of node \(node) ended without an order:\n\(history)")
        }
        for attempt in attempts {
            #expect([200, 201].contains(attempt.answer.status) || Self.isRetryable(attempt.answer), "unexpected answer:\n\(history)")
        }
        let successes = attempts.filter { [200, 201].contains($0.answer.status) }
        let created = successes.filter { $0.answer.status == 201 }
        #expect(created.count <= 1, "more than one attempt answered 201 (its own order chosen):\n\(history)")
        let body = try #require(successes.first?.answer.body)
        for success in successes {
            #expect(success.answer.body == body, "a different order:\n\(history)")
            #expect(success.answer.headers["idempotency-key"] == key)
            #expect(success.answer.headers["location"] == "/v1/orders/\(key)")
            let replayed = success.answer.headers["idempotent-replayed"]
            #expect(success.answer.status == 201 ? replayed == nil : replayed == "true", "\(success)")
        }
        let order = successes[0].answer
        #expect(order.json["id"] as? String == key)
        #expect(order.json["user"] as? String == "u")
        #expect(order.cartItems == expected, "ordered items: \(order.text)")
        let totalMinor: Int64 = 2 * 1299 + 250 + 3 * 500
        #expect((order.json["totalMinor"] as? NSNumber)?.int64Value == totalMinor, "\(order.text)")
        #expect(["n1", "n2", "n3"].contains(order.json["coordinator"] as? String ?? ""), "\(order.text)")
        #expect(((order.json["createdAtMs"] as? NSNumber)?.uint64Value ?? 0) > 0)
        if let winner = created.first {
            #expect(order.json["coordinator"] as? String == "n\(winner.node)", "the 201 came from the order's coordinator:\n\(history)")
        }

        for node in 1...3 {
            let read = try await client.send("GET", cluster.url(node, "/v1/orders/\(key)"))
            #expect(read.status == 200 && read.body == body, "order read through node \(node): \(read.status) \(read.text)")
            let cart = try await client.send("GET", cluster.url(node, "/v1/carts/u?r=3"))
            #expect(cart.status == 200 && cart.cartItems.isEmpty, "cart through node \(node) after checkout: \(cart.text)")
        }
        let late = try await client.send("POST", urls[1], headers: ["Idempotency-Key": key])
        #expect(late.status == 200 && late.headers["idempotent-replayed"] == "true" && late.body == body, "a late retry: \(late.text)")

        // Every attempt was coordinated where it arrived and counted there exactly once.
        let metrics = try await checkoutMetrics(cluster, nodes: 1...3)
        let total = attempts.count + 1, succeeded = successes.count + 1
        #expect(metrics["checkouts"] == total, "\(metrics)\n\(history)")
        #expect(metrics["checkouts_completed"] == succeeded, "\(metrics)\n\(history)")
        #expect(metrics["checkouts_replayed"] == succeeded - created.count, "\(metrics)\n\(history)")
        #expect(metrics["checkouts_failed"] == total - succeeded, "\(metrics)\n\(history)")
        #expect(metrics["checkout_retries"] != nil, "\(metrics)")
        print("concurrent checkout \(key): \(attempts.count) attempts, \(created.count) created, metrics \(metrics.sorted { $0.key < $1.key })")
    }

    @Test("a replica down: 503 and nothing decided or cleared; restarted: the same key checks out once, then replays")
    func replicaDown() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        try await addItem(cluster, node: 1, user: "ada", sku: "lamp", quantity: 1, priceMinor: 4200, key: "add-lamp")
        let key = "down-" + UUID().uuidString.prefix(8).lowercased()
        let checkout = cluster.url(1, "/v1/carts/ada/checkout?timeout_ms=2000")

        cluster.kill(3)
        let refused = try await client.send("POST", checkout, headers: ["Idempotency-Key": key])
        #expect(refused.status == 503 && refused.errorKind == "unavailable", "checkout with node 3 down: \(refused.status) \(refused.text)")
        for node in 1...2 {
            let read = try await client.send("GET", cluster.url(node, "/v1/orders/\(key)?timeout_ms=2000"))
            #expect(read.status == 404 || read.status == 503, "order read through node \(node) with node 3 down: \(read.status) \(read.text)")
            if read.status == 404 { #expect(read.errorKind == "order_not_found") }
        }
        let kept = try await client.send("GET", cluster.url(2, "/v1/carts/ada?r=2"))
        #expect(kept.cartItems == ["lamp": 1], "the refused checkout cleared the cart: \(kept.text)")

        try cluster.start(3)
        try await cluster.waitReady(3)
        // Every node hears node 3 again (and node 3 every node) once a read of all three
        // replicas succeeds through each of them.
        for node in 1...3 {
            try await ServerCluster.waitUntil("node \(node) reaches every replica", seconds: 20) {
                try await client.send("GET", cluster.url(node, "/v1/carts/ada?r=3&timeout_ms=1000")).status == 200
            }
        }
        var log: [Attempt] = []
        for number in 1...Self.attemptsMax {
            let answer = try await client.send("POST", checkout, headers: ["Idempotency-Key": key])
            log.append(Attempt(node: 1, number: number, answer: answer))
            guard answer.status == 503 else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let history = log.map(\.description).joined(separator: "\n")
        let first = try #require(log.last).answer
        // A 503 after the restart may have left an accepted order that the next attempt
        // completes as a replay; without one, this attempt's own read is the order.
        #expect(first.status == 201 || (log.count > 1 && first.status == 200), "checkout after the restart:\n\(history)")
        #expect(first.cartItems == ["lamp": 1] && first.json["id"] as? String == key, "\(first.text)")
        #expect((first.json["totalMinor"] as? NSNumber)?.int64Value == 4200)

        let again = try await client.send("POST", cluster.url(2, "/v1/carts/ada/checkout"), headers: ["Idempotency-Key": key])
        #expect(again.status == 200 && again.headers["idempotent-replayed"] == "true", "retry through node 2: \(again.status) \(again.text)")
        #expect(again.body == first.body, "the retry answered another order: \(again.text) vs \(first.text)")
        let read = try await client.send("GET", cluster.url(3, "/v1/orders/\(key)"))
        #expect(read.status == 200 && read.body == first.body, "order read through the restarted node: \(read.status) \(read.text)")
        let cart = try await client.send("GET", cluster.url(3, "/v1/carts/ada?r=3"))
        #expect(cart.status == 200 && cart.cartItems.isEmpty, "cart after checkout: \(cart.text)")
    }

    @Test("client mistakes: empty cart 409, unknown order 404, missing or invalid key 400, key of another cart 409")
    func mistakes() async throws {
        let cluster = try ServerCluster(nodes: 1)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        let nobody = try await client.send("POST", cluster.url(1, "/v1/carts/nobody/checkout"), headers: ["Idempotency-Key": "e-1"])
        #expect(nobody.status == 409 && nobody.errorKind == "empty_cart", "\(nobody.status) \(nobody.text)")
        let unknown = try await client.send("GET", cluster.url(1, "/v1/orders/unknown"))
        #expect(unknown.status == 404 && unknown.errorKind == "order_not_found", "\(unknown.status) \(unknown.text)")
        let slash = try await client.send("GET", cluster.url(1, "/v1/orders/a%2Fb"))
        #expect(slash.status == 400 && slash.errorKind == "invalid_id", "\(slash.status) \(slash.text)")

        try await addItem(cluster, node: 1, user: "bo", sku: "hat", quantity: 1, priceMinor: 900, key: "add-hat")
        let missing = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout"))
        #expect(missing.status == 400 && missing.errorKind == "missing_idempotency_key", "\(missing.status) \(missing.text)")
        for bad in [String(repeating: "k", count: 49), "a/b"] {
            let invalid = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout"), headers: ["Idempotency-Key": bad])
            #expect(invalid.status == 400 && invalid.errorKind == "invalid_idempotency_key", "\(bad): \(invalid.status) \(invalid.text)")
        }
        let badTimeout = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout?timeout_ms=0"), headers: ["Idempotency-Key": "t"])
        #expect(badTimeout.status == 400 && badTimeout.errorKind == "invalid_parameter", "\(badTimeout.status) \(badTimeout.text)")
        #expect(try await client.send("GET", cluster.url(1, "/v1/carts/bo")).cartItems == ["hat": 1], "a refused checkout changed the cart")

        // Keys that would not survive HTTP byte for byte, and a cart key that could collide with
        // a checkout's own clear.
        // (Surrounding spaces never reach the server: HTTP trims them from header values.)
        for spaced in ["in side", "é"] {
            let refused = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout"), headers: ["Idempotency-Key": spaced])
            #expect(refused.status == 400 && refused.errorKind == "invalid_idempotency_key", "\(spaced): \(refused.status) \(refused.text)")
        }
        let reserved = try JSONSerialization.data(withJSONObject: ["sku": "cap", "quantity": 1])
        let collides = try await client.send("POST", cluster.url(1, "/v1/carts/bo/items"),
                                             headers: ["Idempotency-Key": "checkout:x", "Content-Type": "application/json"],
                                             body: Array(reserved))
        #expect(collides.status == 400 && collides.errorKind == "invalid_idempotency_key", "\(collides.status) \(collides.text)")
        #expect(try await client.send("GET", cluster.url(1, "/v1/carts/bo")).cartItems == ["hat": 1], "a refused key changed the cart")

        // A key with characters that need percent-encoding in the order's path.
        let key = "order#1:a+b"
        let placed = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout"), headers: ["Idempotency-Key": key])
        #expect(placed.status == 201, "\(placed.status) \(placed.text)")
        #expect(placed.headers["location"] == "/v1/orders/order%231%3Aa%2Bb")
        let located = try await client.send("GET", cluster.url(1, placed.headers["location"] ?? "/missing"))
        #expect(located.status == 200 && located.body == placed.body, "\(located.status) \(located.text)")
        let emptied = try await client.send("POST", cluster.url(1, "/v1/carts/bo/checkout"), headers: ["Idempotency-Key": "e-2"])
        #expect(emptied.status == 409 && emptied.errorKind == "empty_cart", "a second key on the emptied cart: \(emptied.text)")
        try await addItem(cluster, node: 1, user: "cy", sku: "hat", quantity: 1, priceMinor: 900, key: "add-hat-cy")
        let reused = try await client.send("POST", cluster.url(1, "/v1/carts/cy/checkout"), headers: ["Idempotency-Key": key])
        #expect(reused.status == 409 && reused.errorKind == "idempotency_key_in_use", "\(reused.status) \(reused.text)")
        #expect(try await client.send("GET", cluster.url(1, "/v1/carts/cy")).cartItems == ["hat": 1], "the other cart was changed")
    }

    @Test("cartstore checkout and cartstore order: table, generated key, replay, --json, errors")
    func commandLine() async throws {
        let cluster = try ServerCluster(nodes: 1)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let node = "127.0.0.1:\(cluster.nodes[0].http)"
        try await addItem(cluster, node: 1, user: "dee", sku: "mug", quantity: 2, priceMinor: 1299, key: "add-mug")

        let placed = try ServerCluster.runCLI(["checkout", "dee", "--node", node])
        #expect(placed.status == 0, "\(placed)")
        let keyLine = try #require(placed.out.split(separator: "\n").last { $0.hasPrefix("idempotency-key: ") }, "\(placed)")
        let key = String(keyLine.dropFirst("idempotency-key: ".count))
        #expect(UUID(uuidString: key) != nil, "a generated key is a UUID: \(placed)")
        #expect(placed.out.contains("order \(key)  user: dee"), "\(placed)")
        #expect(placed.out.contains("mug") && placed.out.contains("total: 2598") && placed.out.contains("coordinator: n1"), "\(placed)")

        let replay = try ServerCluster.runCLI(["checkout", "dee", "--idempotency-key", key, "--node", node])
        #expect(replay.status == 0 && replay.out.contains("replayed"), "\(replay)")
        let shown = try ServerCluster.runCLI(["order", key, "--json", "--node", node])
        #expect(shown.status == 0, "\(shown)")
        let json = try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any]
        #expect(json?["id"] as? String == key && json?["user"] as? String == "dee", "\(shown)")

        let empty = try ServerCluster.runCLI(["checkout", "dee", "--idempotency-key", "again", "--node", node])
        #expect(empty.status == 1 && empty.err.contains("error: empty_cart (409)"), "\(empty)")
        let absent = try ServerCluster.runCLI(["order", "never", "--node", node])
        #expect(absent.status == 1 && absent.err.contains("error: order_not_found (404)"), "\(absent)")
        let usage = try ServerCluster.runCLI(["checkout", "dee", "--idempotency-key", "a/b", "--node", node])
        #expect(usage.status == 64, "\(usage)")
    }

    // MARK: - Helpers

    /// 409 `checkout_contended` and 503: the outcome is open, the same key may be sent again.
    static func isRetryable(_ answer: TestHTTPClient.Answer) -> Bool {
        answer.status == 503 || (answer.status == 409 && answer.errorKind == "checkout_contended")
    }

    /// Adds an item with a price through `node`, acknowledged by all three replicas where there
    /// are three (W = N).
    private func addItem(_ cluster: ServerCluster, node: Int, user: String, sku: String, quantity: Int, priceMinor: Int,
                         key: String) async throws {
        let w = min(3, cluster.nodes.count)
        let body = try JSONSerialization.data(withJSONObject: ["sku": sku, "quantity": quantity, "priceMinor": priceMinor, "name": sku])
        let answer = try await cluster.client.send("POST", cluster.url(node, "/v1/carts/\(user)/items?w=\(w)"),
                                                   headers: ["Idempotency-Key": key, "Content-Type": "application/json"], body: Array(body))
        guard answer.status == 200 else { throw ServerCluster.Failure("add \(user)/\(sku) through node \(node): \(answer.status) \(answer.text)") }
    }

    /// The five checkout counters (`cartstore_<name>_total`), summed over `nodes`.
    private func checkoutMetrics(_ cluster: ServerCluster, nodes: ClosedRange<Int>) async throws -> [String: Int] {
        let names = ["checkouts", "checkouts_completed", "checkouts_replayed", "checkout_retries", "checkouts_failed"]
        var sums: [String: Int] = [:]
        for node in nodes {
            let text = try await cluster.client.send("GET", cluster.url(node, "/metrics")).text
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let value = Double(parts[1]) else { continue }
                for name in names where parts[0] == "cartstore_\(name)_total" { sums[name, default: 0] += Int(value) }
            }
        }
        return sums
    }

}
