import HTTPTypes

/// The API's own header names.
extension HTTPField.Name {
    /// The request id, echoed or made up.
    static let requestID = HTTPField.Name("X-Request-Id")!
    /// A causal context token: read from a response, sent back with the next mutation.
    static let causalContext = HTTPField.Name("X-Causal-Context")!
    /// A mutation's identity: a retry with the same key applies once.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// `true` when a mutation had already been applied under its key (a retry).
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
