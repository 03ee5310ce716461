import CartCluster
import CartVersioning
import Foundation
import Hummingbird

/// What every /v1 route reads from a request: its quorum and timeout parameters, its causal
/// context, its idempotency key, path segments and JSON bodies; each malformed one is a 400 with
/// a sentence saying which and why.
enum APIRequestParsing {
    /// `r`, `w`, `timeout_ms` from the query: numbers, bounds checked by the node.
    static func quorum(_ request: Request) throws(APIError) -> (r: Int?, w: Int?, timeoutMs: UInt64?) {
        let query = request.uri.queryParameters
        func number<T: FixedWidthInteger>(_ name: String) throws(APIError) -> T? {
            guard let text = query.get(name) else { return nil }
            guard let value = T(text) else { throw .badRequest("invalid_parameter", "\(name)=\(text) is not a non-negative integer") }
            return value
        }
        let r: Int? = try number("r")
        let w: Int? = try number("w")
        let timeoutMs: UInt64? = try number("timeout_ms")
        return (r, w, timeoutMs)
    }

    /// The `X-Causal-Context` header, if sent.
    static func context(_ request: Request) throws(APIError) -> CausalContext? {
        guard let token = request.headers[.causalContext] else { return nil }
        do {
            return try CausalContext(token: token)
        } catch {
            throw .badRequest("invalid_context", "X-Causal-Context is not a context token from this API: \(error)")
        }
    }

    /// The `X-Causal-Context` header as a raw key's version vector.
    static func versionVector(_ request: Request) throws(APIError) -> VersionVector? {
        guard let context = try context(request) else { return nil }
        guard context.dotCloud.isEmpty else {
            throw .badRequest("invalid_context", "X-Causal-Context is a cart's context, not a raw key's")
        }
        return context.versionVector
    }

    /// The `Idempotency-Key` header, or a fresh key when none was sent (then a retry is a new
    /// operation: clients that retry send their own).
    static func operationID(_ request: Request) throws(APIError) -> OperationID {
        guard let key = request.headers[.idempotencyKey] else {
            return OperationID("srv-" + UUID().uuidString.lowercased())
        }
        guard (1...VersioningLimits.default.operationIDBytesMax).contains(key.utf8.count),
              key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .badRequest("invalid_idempotency_key",
                              "Idempotency-Key must be 1…\(VersioningLimits.default.operationIDBytesMax) visible ASCII characters")
        }
        // Checkouts clear their cart under `checkout:<id>`: a client's own key must not collide.
        guard !key.hasPrefix("checkout:") else {
            throw .badRequest("invalid_idempotency_key", "Idempotency-Key must not start with \"checkout:\" (reserved for checkouts)")
        }
        return OperationID(key)
    }

    /// The `Idempotency-Key` header of a checkout, as its checkout id: required (a checkout
    /// without one could not be retried safely), and 1…`CheckoutID.bytesMax` bytes without
    /// control characters or `/` (it is also the order's id in `/v1/orders/{id}`).
    static func checkoutID(_ request: Request) throws(APIError) -> CheckoutID {
        guard let key = request.headers[.idempotencyKey] else {
            throw .badRequest("missing_idempotency_key",
                              "a checkout needs an Idempotency-Key header: the checkout's id, to send again with any retry")
        }
        // Visible ASCII, as for cart operations: header bytes that are not UTF-8, repeated
        // headers and surrounding spaces would otherwise turn distinct keys into one id.
        guard key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .badRequest("invalid_idempotency_key", "a checkout's Idempotency-Key must be visible ASCII characters")
        }
        do {
            return try CheckoutID(key)
        } catch {
            throw .badRequest("invalid_idempotency_key", "Idempotency-Key: \(error)")
        }
    }

    /// A path parameter, percent-decoded to UTF-8 text without control characters.
    static func text(_ context: APIRequestContext, _ name: String, bytesMax: Int) throws(APIError) -> String {
        guard let raw = context.parameters[Substring(name)], let text = PathSegment.text(raw) else {
            throw .badRequest("invalid_\(name)", "the \(name) in the path is not percent-encoded UTF-8")
        }
        guard (1...bytesMax).contains(text.utf8.count) else {
            throw .badRequest("invalid_\(name)", "the \(name) has \(text.utf8.count) bytes; 1…\(bytesMax) are allowed")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("invalid_\(name)", "the \(name) contains control characters")
        }
        return text
    }

    /// A raw key from the path: any bytes, percent-decoded.
    static func key(_ context: APIRequestContext) throws(APIError) -> [UInt8] {
        guard let raw = context.parameters[Substring("key")], let bytes = PathSegment.decode(raw) else {
            throw .badRequest("invalid_key", "the key in the path has a malformed percent escape")
        }
        return bytes
    }

    /// The body, at most `bytesMax` bytes.
    static func body(_ request: Request, bytesMax: Int) async throws(APIError) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: bytesMax)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(bytesMax) bytes")
        }
    }

    /// The body decoded as JSON `T`.
    static func json<T: Decodable>(_ type: T.Type, _ request: Request, bytesMax: Int) async throws(APIError) -> T {
        let bytes = try await body(request, bytesMax: bytesMax)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .badRequest("invalid_json", describe(error))
        } catch {
            throw .badRequest("invalid_json", "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map(\.stringValue).joined(separator: ".")
            return names.isEmpty ? "the body" : "field \"\(names)\""
        }
        switch error {
        case let .typeMismatch(type, context): return "\(path(context)) must be \(typeName(type))"
        case let .valueNotFound(type, context): return "\(path(context)) must be \(typeName(type)), not null"
        case let .keyNotFound(key, _): return "field \"\(key.stringValue)\" is required"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int64.Type, is Int.Type: return "an integer"
        case is [String: String].Type: return "an object of strings"
        default: return "\(type)"
        }
    }
}
