import ArgumentParser
import AsyncHTTPClient
import Foundation

/// A thin wrapper around one shared `HTTPClient` talking to one CartStore node: it builds the
/// URL, sends the request with a deadline and collects the whole answer.
///
/// Transport failures (refused connection, DNS, timeout) become
/// ``CommandFailure/unreachable(node:reason:requestID:)``; any HTTP status comes back as an
/// ``APIResponse`` and it is up to the caller which ones are failures (see ``expectSuccess(_:)``).
/// Every request carries a fresh `X-Request-Id`, so a failure can be matched with the server's
/// logs even when no answer arrived.
struct APIClient: Sendable {
    /// How long a request may take when nothing asks for longer, in milliseconds.
    static let defaultTimeoutMs: Int64 = 10_000
    /// The largest response body accepted (raw values are at most 1 MiB; carts are smaller).
    static let maximumBodyBytes = 16 * 1024 * 1024

    /// The node as the user named it, for messages.
    let node: String
    /// `http://host:port`, without a trailing slash.
    let baseURL: String
    /// The deadline of each request, in milliseconds.
    let timeoutMs: Int64
    private let http: HTTPClient

    private init(node: String, baseURL: String, timeoutMs: Int64, http: HTTPClient) {
        self.node = node
        self.baseURL = baseURL
        self.timeoutMs = timeoutMs
        self.http = http
    }

    /// Runs `body` with a client for the node of `options`, shuts the `HTTPClient` down
    /// afterwards whether `body` succeeded or not, and turns a ``CommandFailure`` into its
    /// message on standard error and exit status 1.
    ///
    /// When `idempotencyKey` is given (a cart mutation) and the failure leaves the outcome
    /// unknown (no answer, a 5xx), the key is printed too: the mutation may or may not have
    /// been applied, and retrying with the same key applies it at most once.
    static func withClient(
        _ options: NodeOptions,
        timeoutMs: Int64 = APIClient.defaultTimeoutMs,
        idempotencyKey: String? = nil,
        _ body: (APIClient) async throws -> Void
    ) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: .milliseconds(min(timeoutMs, APIClient.defaultTimeoutMs)),
            read: .milliseconds(timeoutMs)
        )
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = APIClient(node: options.node, baseURL: options.baseURL, timeoutMs: timeoutMs, http: http)
        var failure: (any Error)?
        do {
            try await body(client)
        } catch {
            failure = error
        }
        do {
            try await http.shutdown()
        } catch {
            if failure == nil { failure = error }
        }
        guard let failure else { return }
        guard let commandFailure = failure as? CommandFailure else { throw failure }
        Console.error(lines: commandFailure.messageLines)
        if let idempotencyKey, commandFailure.outcomeUnknown {
            Console.error("idempotency-key: \(idempotencyKey) (the change may or may not have been applied; "
                + "retrying with --idempotency-key \(idempotencyKey) applies it at most once)")
        }
        throw ExitCode.failure
    }

    /// Sends one request and returns the complete answer, whatever its status.
    ///
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The path, its variable segments already encoded with ``PathEncoding``.
    ///   - query: Query parameters (encoded here).
    ///   - headers: Extra request headers.
    ///   - body: The request body, if any.
    ///   - contentType: The body's media type.
    func request(
        _ method: HTTPVerb,
        _ path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        contentType: String = "application/json"
    ) async throws -> APIResponse {
        let queryString = PathEncoding.query(query)
        let requestID = UUID().uuidString.lowercased()
        var request = HTTPClientRequest(url: baseURL + path + (queryString.isEmpty ? "" : "?" + queryString))
        switch method {
        case .get: request.method = .GET
        case .put: request.method = .PUT
        case .post: request.method = .POST
        case .patch: request.method = .PATCH
        case .delete: request.method = .DELETE
        }
        request.headers.add(name: "User-Agent", value: "cartstore-cli")
        request.headers.add(name: "Accept", value: "application/json, application/octet-stream")
        request.headers.add(name: "X-Request-Id", value: requestID)
        for header in headers {
            request.headers.add(name: header.name, value: header.value)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = HTTPClientRequest.Body.bytes(body)
        }

        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .milliseconds(timeoutMs))
        } catch {
            throw CommandFailure.unreachable(node: node, reason: Self.describe(error), requestID: requestID)
        }
        var responseHeaders: [(name: String, value: String)] = []
        for (name, value) in response.headers {
            responseHeaders.append((name: name, value: value))
        }
        let status = Int(response.status.code)
        let reason = response.status.reasonPhrase
        let answeredID = responseHeaders.first { $0.name.lowercased() == "x-request-id" }?.value ?? requestID
        let bytes: [UInt8]
        do {
            let buffer = try await response.body.collect(upTo: Self.maximumBodyBytes)
            bytes = Array(buffer.readableBytesView)
        } catch {
            throw CommandFailure.invalidResponse(
                node: node,
                reason: "the \(status) answer's body could not be read: \(Self.describe(error))",
                requestID: answeredID
            )
        }
        return APIResponse(status: status, reason: reason, headers: responseHeaders, body: bytes)
    }

    /// `response` if its status is 2xx; otherwise throws ``CommandFailure/http(_:)``.
    @discardableResult
    func expectSuccess(_ response: APIResponse) throws -> APIResponse {
        guard response.isSuccess else { throw CommandFailure.http(response) }
        return response
    }

    /// Decodes the JSON body of `response` as `type`, or throws
    /// ``CommandFailure/invalidResponse(node:reason:requestID:)``.
    func decode<T: Decodable>(_ type: T.Type, from response: APIResponse) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw CommandFailure.invalidResponse(
                node: node,
                reason: "the body is not the expected JSON (\(error))",
                requestID: response.requestID
            )
        }
    }

    /// The body of `response` as an arbitrary JSON value, or throws
    /// ``CommandFailure/invalidResponse(node:reason:requestID:)``.
    func decodeJSON(from response: APIResponse) throws -> JSONValue {
        try decode(JSONValue.self, from: response)
    }

    /// A short description of a transport error (a timeout, or the socket error's text).
    private static func describe(_ error: any Error) -> String {
        if let clientError = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout]
            if timeouts.contains(clientError) {
                return "no answer within the timeout (\(clientError.shortDescription.lowercased()))"
            }
            return clientError.shortDescription
        }
        return String(describing: error)
    }
}
