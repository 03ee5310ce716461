import CartCluster

/// How the HTTP routes reach the node: submit a request, get its reply, with the failures that
/// are not replies (the node stopping) as `APIError`s and quorum failures counted by kind.
struct NodeGateway: Sendable {
    let runtime: NodeRuntime
    let metrics: ServerMetrics

    func submit(_ request: ClientRequest) async throws(APIError) -> ClientReply {
        switch await runtime.submit(request) {
        case let .success(reply):
            if case let .unavailable(error) = reply { metrics.quorumFailure(error) }
            return reply
        case .failure(.stopped):
            throw APIError(.serviceUnavailable, "shutting_down", NodeRuntime.RuntimeError.stopped.description)
        case let .failure(error):
            throw APIError(.internalServerError, "storage_failed", error.description)
        }
    }
}
