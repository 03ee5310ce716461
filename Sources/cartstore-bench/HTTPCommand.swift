import ArgumentParser
import NIOCore
import NIOPosix

/// `cartstore-bench http`: a closed-loop load generator against a running CartStore cluster,
/// through its HTTP API.
///
/// A raw SwiftNIO HTTP/1.1 client (no AsyncHTTPClient: it costs about twice the CPU per
/// request, see the stack notes): `--connections` keep-alive connections on `--threads` event
/// loops, each with one request in flight, spread round-robin across `--nodes`. Optionally
/// loads `--fill` carts first. Reports per operation the rate and latency percentiles, errors
/// by kind, and the CPU this process (and, with `--pids`, the servers) spent per request.
struct HTTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Load a running CartStore cluster through its HTTP API (closed loop, keep-alive).",
        discussion: """
        Operations: add = POST /v1/carts/{user}/items (one unit of a random SKU of the user's
        --skus SKUs, Idempotency-Key unique per operation); get = GET /v1/carts/{user};
        remove = DELETE /v1/carts/{user}/items/{sku} (a 404 item_not_found is counted as
        remove_missing, not as an error). Users are 0..<--users, drawn uniformly or zipfian
        (theta 0.99, user 0 hottest); connection i draws from seed + i.
        --fill N first adds one item to each of users 0..<N as fast as the connections allow,
        then reads each node's /admin/status (engine.bytesOnDisk, engine.memtableBytes) and,
        with --pids (one per node, in --nodes order), each server's peak RSS (VmHWM).
        With --fill and --duration 0 only the fill runs.
        Errors: connect, reset, protocol, timeout (no answer within --timeout; the connection is
        closed and reopened), http_<status> <error kind>. Failed connections reopen after 100 ms.
        Latencies: request written to response complete, in ms. CPU: getrusage of this process;
        with --pids also /proc/PID/stat of the servers, both over the measured interval only.
        A progress line (ops/s of the last second, errors so far) goes to stderr each second.
        """
    )

    @Option(help: "HTTP addresses HOST:PORT, comma-separated; connections are spread round-robin across them.")
    var nodes: String = "127.0.0.1:8080"

    @Option(help: "Concurrent keep-alive connections (each with one request in flight).")
    var connections: Int = 64

    @Option(help: "Measured seconds (0: none; only with --fill).")
    var duration: Int = 30

    @Option(help: "Seconds of load before the measurement (not recorded).")
    var warmup: Int = 2

    @Option(help: "Size of the user key space (users 0..<N).")
    var users: Int = 100_000

    @Option(help: "How users are drawn: uniform or zipf (theta 0.99).")
    var distribution: KeyDistribution = .zipf

    @Option(help: "Operation weights, e.g. add=50,get=40,remove=10 or get=100.")
    var mix: OperationMix = .standard

    @Option(name: .customLong("r"), help: "Read quorum R, sent as ?r=N (default: the server's).")
    var readQuorum: Int?

    @Option(name: .customLong("w"), help: "Write quorum W, sent as ?w=N (default: the server's).")
    var writeQuorum: Int?

    @Option(help: "Before the timed run, load N carts (users 0..<N, one add each).")
    var fill: Int?

    @Option(help: "Server process ids, comma-separated, in --nodes order: their peak RSS after the fill and their CPU per request.")
    var pids: String?

    @Option(help: "SKUs per user (the SKU space of adds and removes).")
    var skus: Int = 20

    @Option(help: "Event-loop threads of the client.")
    var threads: Int = 1

    @Option(help: "Seconds after which an unanswered request counts as a timeout.")
    var timeout: Int = 10

    @Option(help: "Seed of every connection's random stream.")
    var seed: UInt64 = 1

    @Flag(help: "Print the final report as one line of JSON too (after the text).")
    var json = false

    func validate() throws {
        guard HTTPNode.parseList(nodes) != nil else { throw ValidationError(HTTPBenchError.invalidNodes(nodes).description) }
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be in 1...100000") }
        guard duration >= 0, warmup >= 0 else { throw ValidationError("--duration and --warmup must not be negative") }
        guard duration > 0 || fill != nil else { throw ValidationError("--duration 0 needs --fill (nothing to do)") }
        guard (1...1_000_000_000).contains(users) else { throw ValidationError("--users must be in 1...1000000000") }
        guard (1...256).contains(skus) else { throw ValidationError("--skus must be in 1...256 (the server's items per cart)") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64") }
        guard (1...600).contains(timeout) else { throw ValidationError("--timeout must be in 1...600 seconds") }
        if let readQuorum, readQuorum < 1 { throw ValidationError("--r must be at least 1") }
        if let writeQuorum, writeQuorum < 1 { throw ValidationError("--w must be at least 1") }
        if let fill, fill < 1 { throw ValidationError("--fill must be at least 1") }
        let nodeCount = HTTPNode.parseList(nodes)?.count ?? 0
        let pidList = try parsedPIDs()
        if !pidList.isEmpty && pidList.count != nodeCount {
            throw ValidationError("--pids needs one process id per --nodes entry, in the same order (\(nodeCount))")
        }
    }

    private func parsedPIDs() throws -> [Int32] {
        guard let pids else { return [] }
        return try pids.split(separator: ",").map { text in
            guard let pid = Int32(text.trimmingSpaces), pid > 0 else { throw ValidationError("--pids: '\(text)' is not a process id") }
            return pid
        }
    }

    func run() throws {
        let nodeList = try HTTPNode.resolve(nodes)
        let pidList = try parsedPIDs()
        let chooser = UserChooser(users: users, distribution: distribution)
        var report = HTTPLoadReport(configuration: .init(
            nodes: nodeList.map(\.description), connections: connections, threads: threads,
            warmupSeconds: warmup, durationSeconds: duration, users: users, distribution: chooser.description,
            mix: mix, skus: skus, readQuorum: readQuorum, writeQuorum: writeQuorum, seed: seed,
            timeoutSeconds: timeout, pids: pidList))
        for line in report.headerLines() { print(line) }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let runID = HTTPLoadPlan.makeRunID()
        // The fill and the timed run number their connections and operations from 0 each:
        // distinct prefixes keep their idempotency keys apart.
        func plan(_ mode: HTTPLoadPlan.Mode) -> HTTPLoadPlan {
            HTTPLoadPlan(mode: mode, mix: mix, users: chooser, skus: skus, readQuorum: readQuorum,
                         writeQuorum: writeQuorum, seed: seed, runID: runID + (mode == .timed ? "t" : "f"),
                         timeoutSeconds: timeout)
        }

        if let fill {
            let runner = HTTPLoadRun(group: group, nodes: nodeList, connections: connections,
                                     plan: plan(.fill(count: fill)), serverPIDs: pidList)
            let result = try runner.fill(count: fill)
            let samples = nodeList.enumerated().map { i, node in
                NodeStatusProbe.sample(node, pid: pidList.isEmpty ? nil : pidList[i], group: group)
            }
            report.fill = HTTPLoadReport.Fill(carts: fill, result: result, nodes: samples)
            for line in report.fillLines() { print(line) }
        }
        if duration > 0 {
            let runner = HTTPLoadRun(group: group, nodes: nodeList, connections: connections,
                                     plan: plan(.timed), serverPIDs: pidList)
            report.run = try runner.timed(warmupSeconds: warmup, durationSeconds: duration)
            for line in report.runLines() { print(line) }
        }
        if json { print(report.json()) }
    }
}
