import ArgumentParser

/// The `--timeout-ms` option of the checkout commands, sent as the query parameter `timeout_ms`
/// (a checkout and an order read take no R or W: every phase needs all N replicas).
struct TimeoutOptions: ParsableArguments {
    @Option(
        name: .customLong("timeout-ms"),
        help: ArgumentHelp(
            "The server's deadline, in milliseconds (1…\(QuorumOptions.maximumTimeoutMs)).",
            valueName: "ms"
        )
    )
    var timeoutMs: Int?

    /// The query parameters for this option.
    var queryItems: [(name: String, value: String)] {
        timeoutMs.map { [(name: "timeout_ms", value: String($0))] } ?? []
    }

    /// How long the client waits for an answer, in milliseconds (as ``QuorumOptions/clientTimeoutMs``):
    /// 10 s, or the server's deadline plus 5 s, so the server's own answer arrives first.
    var clientTimeoutMs: Int64 {
        max(APIClient.defaultTimeoutMs, Int64(timeoutMs ?? 0) + 5_000)
    }

    func validate() throws {
        if let timeoutMs, !(1...QuorumOptions.maximumTimeoutMs).contains(timeoutMs) {
            throw ValidationError("--timeout-ms must be in 1…\(QuorumOptions.maximumTimeoutMs) (got \(timeoutMs)).")
        }
    }
}
