/// A complete answer from a CartStore node: status, headers and the whole body.
struct APIResponse: Sendable {
    /// The HTTP status code.
    var status: Int
    /// The HTTP reason phrase, e.g. `Not Found`.
    var reason: String
    /// The response headers in the order received.
    var headers: [(name: String, value: String)]
    /// The response body.
    var body: [UInt8]

    /// True for a 2xx status.
    var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of header `name` (compared case-insensitively), if present.
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The server's `X-Request-Id`.
    var requestID: String? { header("X-Request-Id") }

    /// The `X-Causal-Context` token, if the response carries one.
    var causalContext: String? { header("X-Causal-Context") }

    /// The body as text (invalid UTF-8 replaced).
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
