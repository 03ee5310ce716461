import Foundation
import Testing

/// Contract 5 against a real one-node server: every client mistake is a 4xx with the API's JSON
/// error body, and changes nothing.
@Suite("Bad input", .serialized, .timeLimit(.minutes(2)))
struct BadInputTests {
    struct Case: CustomStringConvertible {
        var method: String
        var path: String
        var headers: [String: String] = [:]
        var body: [UInt8]? = nil
        var status: Int
        var kind: String
        var description: String { "\(method) \(path) → \(status) \(kind)" }
    }

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let cases: [Case] = [
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\""), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("not json"), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": 5}"), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"quantity\": 1}"), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"quantity\": \"2\"}"), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"quantity\": -1}"), status: 400, kind: "invalid_quantity"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"quantity\": 0}"), status: 400, kind: "invalid_quantity"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"quantity\": 1000000000000}"), status: 400, kind: "invalid_quantity"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"quantity\": 1e400}"), status: 400, kind: "invalid_json"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"\"}"), status: 400, kind: "invalid_sku"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"\(String(repeating: "s", count: 500))\"}"), status: 400, kind: "invalid_sku"),
        Case(method: "POST", path: "/v1/carts/bob/items", body: json("{\"sku\": \"a\", \"name\": \"\(String(repeating: "n", count: 5000))\"}"), status: 400, kind: "invalid_details"),
        Case(method: "POST", path: "/v1/carts/\(String(repeating: "u", count: 300))/items", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_user"),
        Case(method: "POST", path: "/v1/carts/bob%0A/items", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_user"),
        Case(method: "POST", path: "/v1/carts/bob/items", headers: ["Idempotency-Key": String(repeating: "k", count: 200)],
             body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_idempotency_key"),
        Case(method: "POST", path: "/v1/carts/bob/items?r=abc", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_parameter"),
        Case(method: "POST", path: "/v1/carts/bob/items?w=0", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_parameter"),
        Case(method: "POST", path: "/v1/carts/bob/items?w=9", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_parameter"),
        Case(method: "POST", path: "/v1/carts/bob/items?w=-1", body: json("{\"sku\": \"a\"}"), status: 400, kind: "invalid_parameter"),
        Case(method: "GET", path: "/v1/carts/bob?timeout_ms=0", status: 400, kind: "invalid_parameter"),
        Case(method: "GET", path: "/v1/carts/bob?timeout_ms=999999999", status: 400, kind: "invalid_parameter"),
        Case(method: "GET", path: "/v1/carts/bob?r=99999999999999999999999", status: 400, kind: "invalid_parameter"),
        Case(method: "DELETE", path: "/v1/carts/bob/items/a", headers: ["X-Causal-Context": "%%%not-base64"], status: 400, kind: "invalid_context"),
        Case(method: "DELETE", path: "/v1/carts/bob/items/a", headers: ["X-Causal-Context": "AAAA"], status: 400, kind: "invalid_context"),
        Case(method: "PATCH", path: "/v1/carts/bob/items/mug", body: json("{\"quantity\": -3}"), status: 400, kind: "invalid_quantity"),
        Case(method: "PATCH", path: "/v1/carts/bob/items/mug", body: json("{}"), status: 400, kind: "invalid_json"),
        Case(method: "PUT", path: "/v1/kv/cart:bob", body: [1, 2, 3], status: 400, kind: "wrong_kind"),
        Case(method: "PUT", path: "/v1/kv/\(String(repeating: "k", count: 66_000))", body: [1], status: 400, kind: "invalid_key"),
        Case(method: "GET", path: "/v1/kv/never-written", status: 404, kind: "not_found"),
        Case(method: "GET", path: "/v1/nothing", status: 404, kind: "not_found"),
        Case(method: "GET", path: "/", status: 404, kind: "not_found"),
        Case(method: "POST", path: "/v1/carts/bob", body: json("{}"), status: 404, kind: "not_found"),
    ]

    @Test("each mistake is a 4xx with a JSON error naming it, and the cart is unchanged")
    func mistakes() async throws {
        let cluster = try ServerCluster(nodes: 1)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        let client = cluster.client
        let seeded = try await client.add(cluster.url(1, "/v1/carts/bob/items"), sku: "mug", quantity: 2, key: "seed")
        #expect(seeded.status == 200)
        let before = try await client.send("GET", cluster.url(1, "/v1/carts/bob"))
        for bad in Self.cases {
            // Raw requests: the server may answer before the body is read, which AsyncHTTPClient
            // does not survive (it traps), and a library would normalise malformed targets.
            let answer = try RawHTTP.exchange(port: cluster.nodes[0].http, method: bad.method, target: bad.path,
                                              headers: bad.headers, body: bad.body ?? [])
            #expect(answer.status == bad.status, "\(bad): got \(answer.status) \(answer.text.prefix(300))")
            #expect(answer.errorKind == bad.kind, "\(bad): got \(answer.text.prefix(300))")
            #expect((answer.json["detail"] as? String)?.isEmpty == false, "\(bad): no detail")
            #expect(answer.headers["x-request-id"]?.isEmpty == false, "\(bad): no request id")
        }
        // Targets an HTTP client library would "fix" before sending: a malformed escape, bytes
        // that are not UTF-8.
        for target in ["/v1/carts/bob%ZZ/items", "/v1/carts/bob%FF/items", "/v1/carts/bob%E2%82/items"] {
            let raw = try RawHTTP.exchange(port: cluster.nodes[0].http, method: "POST", target: target, body: Self.json("{\"sku\": \"a\"}"))
            #expect(raw.status == 400 && raw.errorKind == "invalid_user", "\(target): \(raw.status) \(raw.text)")
        }
        for (target, size) in [("/v1/carts/bob/items", 2 << 20), ("/v1/carts/bob/items", 70_000), ("/v1/kv/k", (1 << 20) + 1)] {
            let raw = try RawHTTP.exchange(port: cluster.nodes[0].http, method: target.hasPrefix("/v1/kv") ? "PUT" : "POST", target: target,
                                       body: Array(repeating: 0x20, count: size))
            #expect(raw.status == 413 && raw.errorKind == "body_too_large", "\(target) with \(size) bytes: \(raw.status) \(raw.text)")
        }
        // Removing an item the cart does not hold is not a mistake: a retried remove must succeed.
        let absent = try await client.send("DELETE", cluster.url(1, "/v1/carts/bob/items/nothing-here"))
        #expect(absent.status == 200 && absent.cartItems == before.cartItems, "\(absent.status) \(absent.text)")
        let after = try await client.send("GET", cluster.url(1, "/v1/carts/bob"))
        #expect(after.cartItems == before.cartItems,
                "bad input changed the cart: \(before.text) → \(after.text)")
        let echoed = try await client.send("GET", cluster.url(1, "/health"), headers: ["X-Request-Id": "trace-42"])
        #expect(echoed.headers["x-request-id"] == "trace-42")
        #expect(!cluster.logText(1).contains("request failed"), "a mistake reached the 500 path:\n\(cluster.tail(1))")
    }
}
