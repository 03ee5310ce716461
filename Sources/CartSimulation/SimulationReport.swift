/// How one run went: its summary line, and for a failure what broke and how to replay it.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var options: SimulationOptions
    public var failures: [String] = []
    /// Client requests sent (attempts, retries included).
    public var requests = 0
    /// Requests answered with a write acknowledged.
    public var acknowledged = 0
    public var faults = 0
    public var messages = 0
    public var messagesDropped = 0
    public var invariantChecks = 0
    public var simulatedMs: UInt64 = 0
    public var traceHash = TraceHash()
    public var hintsStored = 0
    public var hintsDelivered = 0
    public var readRepairs = 0
    public var sloppyWrites = 0
    /// Records sent by anti-entropy, and how long it took to converge once every hint was
    /// delivered (simulated ms).
    public var antiEntropyKeys = 0
    public var convergenceMs: UInt64 = 0
    /// With `options.wipe`: how long anti-entropy took to refill the node whose disk was
    /// replaced (simulated ms).
    public var refillMs: UInt64 = 0
    /// Checkout ids acknowledged to a client, and orders decided at the end.
    public var checkouts = 0
    public var ordersDecided = 0

    public var passed: Bool { failures.isEmpty }

    /// The command that replays this run.
    public var replayCommand: String { "swift run cartstore-sim --seed \(options.seed) --trace" }

    public var description: String {
        let status = passed ? "ok  " : "FAIL"
        var line = "\(status) seed=\(options.seed) nodes=\(options.nodes) requests=\(requests) acked=\(acknowledged) "
            + "faults=\(faults) messages=\(messages) dropped=\(messagesDropped) checks=\(invariantChecks) "
            + "hints=\(hintsStored)/\(hintsDelivered) repairs=\(readRepairs) sloppy=\(sloppyWrites) "
            + "checkouts=\(checkouts)/\(ordersDecided) aae=\(antiEntropyKeys)keys/\(convergenceMs)ms\(options.wipe ? " refill=\(refillMs)ms" : "") "
            + "sim=\(simulatedMs / 1000).\(simulatedMs % 1000 / 100)s trace=\(traceHash)"
        if !passed {
            line += "\n  " + failures.prefix(10).joined(separator: "\n  ")
            line += "\n  replay: \(replayCommand)"
        }
        return line
    }
}
