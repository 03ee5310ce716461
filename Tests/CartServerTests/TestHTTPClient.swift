import AsyncHTTPClient
import Foundation
import NIOCore

/// A small HTTP client for the multi-process tests (AsyncHTTPClient; connections pooled).
final class TestHTTPClient: Sendable {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object.
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
        /// The cart's items as sku → quantity.
        var cartItems: [String: Int64] {
            var items: [String: Int64] = [:]
            for item in (json["items"] as? [[String: Any]]) ?? [] {
                if let sku = item["sku"] as? String, let quantity = item["quantity"] as? NSNumber { items[sku] = quantity.int64Value }
            }
            return items
        }
        var errorKind: String? { json["error"] as? String }
    }

    private let client: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(30))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit {
        try? client.syncShutdown()
    }

    func send(_ method: String, _ url: String, headers: [String: String] = [:], body: [UInt8]? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: fields, body: Array(bytes.readableBytesView))
    }

    /// `POST /v1/carts/{user}/items` with a JSON body.
    func add(_ url: String, sku: String, quantity: Int = 1, key: String) async throws -> Answer {
        let body = try JSONSerialization.data(withJSONObject: ["sku": sku, "quantity": quantity])
        return try await send("POST", url, headers: ["Idempotency-Key": key, "Content-Type": "application/json"], body: Array(body))
    }
}
