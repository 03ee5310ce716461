import ArgumentParser

/// Per-request quorum and deadline options of the `/v1` routes (carts and raw keys), sent as the
/// query parameters `r`, `w` and `timeout_ms`; the server keeps its configured values for any
/// left out.
struct QuorumOptions: ParsableArguments {
    /// The largest `--timeout-ms` the server accepts.
    static let maximumTimeoutMs = 60_000

    @Option(name: .customLong("r"), help: ArgumentHelp("Replicas that must answer a read (1…N).", valueName: "n"))
    var r: Int?

    @Option(name: .customLong("w"), help: ArgumentHelp("Replicas that must acknowledge a write (1…N).", valueName: "n"))
    var w: Int?

    @Option(
        name: .customLong("timeout-ms"),
        help: ArgumentHelp("The server's deadline for the quorum, in milliseconds (1…60000).", valueName: "ms")
    )
    var timeoutMs: Int?

    /// The query parameters for these options, in a fixed order.
    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if let r { items.append((name: "r", value: String(r))) }
        if let w { items.append((name: "w", value: String(w))) }
        if let timeoutMs { items.append((name: "timeout_ms", value: String(timeoutMs))) }
        return items
    }

    /// How long the client waits for an answer, in milliseconds: 10 s, or the server's deadline
    /// plus 5 s when `--timeout-ms` asks for a longer one, so the server's own `unavailable`
    /// answer arrives before the client gives up.
    var clientTimeoutMs: Int64 {
        max(APIClient.defaultTimeoutMs, Int64(timeoutMs ?? 0) + 5_000)
    }

    func validate() throws {
        if let r, r < 1 { throw ValidationError("--r must be at least 1 (got \(r)).") }
        if let w, w < 1 { throw ValidationError("--w must be at least 1 (got \(w)).") }
        if let timeoutMs, !(1...Self.maximumTimeoutMs).contains(timeoutMs) {
            throw ValidationError("--timeout-ms must be in 1…\(Self.maximumTimeoutMs) (got \(timeoutMs)).")
        }
    }
}
