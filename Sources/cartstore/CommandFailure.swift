/// Why a command could not do what it was asked; reported on standard error by
/// ``APIClient/withClient(_:timeoutMs:idempotencyKey:_:)``, after which the command exits 1.
enum CommandFailure: Error, Sendable {
    /// The node answered with a status that is not success (nor the 300 `kv get` expects).
    case http(APIResponse)
    /// The node could not be reached, or did not answer in time.
    case unreachable(node: String, reason: String, requestID: String)
    /// The node answered with a body this client cannot read.
    case invalidResponse(node: String, reason: String, requestID: String?)
    /// Local input could not be used (e.g. a file that cannot be read).
    case input(String)

    /// True when a mutation that failed this way may still have been applied: no answer
    /// arrived, the answer could not be read, or the node answered with a 5xx (such as
    /// `unavailable`, quorum not reached).
    var outcomeUnknown: Bool {
        switch self {
        case .http(let response): return response.status >= 500
        case .unreachable, .invalidResponse: return true
        case .input: return false
        }
    }

    /// The lines printed on standard error for this failure.
    var messageLines: [String] {
        switch self {
        case .http(let response):
            var lines = [Self.errorLine(for: response)]
            if let requestID = response.requestID { lines.append("request id: \(requestID)") }
            if response.status == 404, let context = response.causalContext {
                lines.append("context: \(context)")
            }
            return lines
        case .unreachable(let node, let reason, let requestID):
            return ["error: cannot reach \(node): \(reason)", "request id: \(requestID)"]
        case .invalidResponse(let node, let reason, let requestID):
            var lines = ["error: unexpected response from \(node): \(reason)"]
            if let requestID { lines.append("request id: \(requestID)") }
            return lines
        case .input(let reason):
            return ["error: \(reason)"]
        }
    }

    /// `error: <kind> (<status>): <detail>`, from the JSON error body when there is one, else
    /// from the reason phrase and the body's text.
    private static func errorLine(for response: APIResponse) -> String {
        if let body = try? JSONValue.decode(response.body),
           case .string(let kind)? = body["error"] {
            var detail = ""
            if case .string(let text)? = body["detail"] { detail = text }
            return "error: \(kind) (\(response.status)): \(detail.isEmpty ? "(no detail)" : detail)"
        }
        let kind = response.reason.isEmpty
            ? "http_\(response.status)"
            : response.reason.lowercased().replacingSpaces(with: "_")
        let text = String(response.bodyText.trimmedWhitespace.prefix(500))
        return "error: \(kind) (\(response.status)): \(text.isEmpty ? "(no detail)" : text)"
    }
}

extension String {
    /// The string with every space replaced by `replacement`.
    fileprivate func replacingSpaces(with replacement: Character) -> String {
        String(map { $0 == " " ? replacement : $0 })
    }

    /// The string without leading and trailing whitespace and newlines.
    fileprivate var trimmedWhitespace: String {
        var characters = Substring(self)
        while let first = characters.first, first.isWhitespace { characters.removeFirst() }
        while let last = characters.last, last.isWhitespace { characters.removeLast() }
        return String(characters)
    }
}
