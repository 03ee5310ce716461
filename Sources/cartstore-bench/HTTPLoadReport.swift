import Histogram

/// The report of `cartstore-bench http`: plain text aligned like `engine`'s, and one line of
/// JSON with the same figures (`--json`). Latencies are in milliseconds with 2 decimals.
struct HTTPLoadReport {
    /// What the run was asked to do.
    struct Configuration {
        var nodes: [String]
        var connections: Int
        var threads: Int
        var warmupSeconds: Int
        var durationSeconds: Int
        var users: Int
        var distribution: String
        var mix: OperationMix
        var skus: Int
        var readQuorum: Int?
        var writeQuorum: Int?
        var seed: UInt64
        var timeoutSeconds: Int
        var pids: [Int32]
    }

    /// The fill's result and what the nodes reported after it.
    struct Fill {
        var carts: Int
        var result: HTTPLoadResult
        var nodes: [NodeStatusProbe.Sample]
    }

    var configuration: Configuration
    var fill: Fill?
    var run: HTTPLoadResult?

    private static let rule = String(repeating: "-", count: 100)

    // MARK: - Text

    func headerLines() -> [String] {
        let c = configuration
        var quorum: [String] = []
        if let r = c.readQuorum { quorum.append("r=\(r)") }
        if let w = c.writeQuorum { quorum.append("w=\(w)") }
        return [
            "CartStore:    cartstore-bench http",
            "Nodes:        " + c.nodes.joined(separator: ", "),
            "Connections:  \(c.connections) (round-robin over \(c.nodes.count) node(s)), \(c.threads) event-loop thread(s), closed loop, keep-alive",
            "Users:        \(c.users), \(c.distribution), \(c.skus) SKUs per user, seed \(c.seed)",
            "Mix:          \(c.mix)   quorum: \(quorum.isEmpty ? "server defaults" : quorum.joined(separator: " "))   timeout \(c.timeoutSeconds) s",
            "Duration:     " + (c.durationSeconds > 0 ? "\(c.durationSeconds) s measured after \(c.warmupSeconds) s warmup" : "none (fill only)"),
            "Latencies in ms per request (request written to response complete); MB = 2^20 bytes",
            Self.rule,
        ]
    }

    func fillLines() -> [String] {
        guard let fill else { return [] }
        let r = fill.result
        let h = r.stats.totalLatency
        let p50 = Self.ms(h.valueAtPercentile(50))
        let p99 = Self.ms(h.valueAtPercentile(99))
        let p999 = Self.ms(h.valueAtPercentile(99.9))
        let worst = Self.ms(h.totalCount == 0 ? 0 : h.maxRecorded)
        let rate = Format.fixed(r.operationsPerSecond, 0)
        var first = Format.padRight("fill", 12)
        first += " : \(r.stats.operations) of \(fill.carts) carts in \(Format.fixed(r.seconds, 2)) s = \(rate) carts/s;"
        first += " p50 \(p50) p99 \(p99) p99.9 \(p999) max \(worst) ms"
        var lines = [first]
        lines += errorLines(r.stats)
        lines += cpuLines(r)
        let width = max(12, fill.nodes.map { "node \($0.node)".count }.max() ?? 0)
        for sample in fill.nodes {
            var parts: [String] = []
            if let failure = sample.failure {
                parts.append("/admin/status failed (\(failure))")
            } else {
                parts.append("bytesOnDisk " + (sample.bytesOnDisk.map(Format.megabytes) ?? "n/a"))
                parts.append("memtableBytes " + (sample.memtableBytes.map(Format.megabytes) ?? "n/a"))
            }
            if let pid = sample.pid {
                parts.append("peak RSS " + (sample.peakResidentBytes.map(Format.megabytes) ?? "n/a") + " (VmHWM of pid \(pid))")
            } else {
                parts.append("peak RSS n/a")
            }
            lines.append(Format.padRight("node \(sample.node)", width) + " : " + parts.joined(separator: "  "))
        }
        lines.append(Self.rule)
        return lines
    }

    func runLines() -> [String] {
        guard let run else { return [] }
        let stats = run.stats
        var header = Format.padRight("operation", 12) + " :"
        header += Format.padLeft("ops/s", 11) + Format.padLeft("count", 11)
        for title in ["p50", "p99", "p99.9", "max"] { header += Format.padLeft(title, 9) }
        var lines = [header]
        for outcome in shownOutcomes() {
            lines.append(row(outcome.name, count: stats.count(outcome), seconds: run.seconds, stats.latency[outcome.rawValue]))
        }
        lines.append(row("total", count: stats.operations, seconds: run.seconds, stats.totalLatency))
        lines += errorLines(stats)
        lines += cpuLines(run)
        return lines
    }

    /// The mix's operations, and `remove_missing` with removes, plus any outcome that occurred.
    private func shownOutcomes() -> [HTTPOutcome] {
        let mix = configuration.mix
        return HTTPOutcome.allCases.filter { outcome in
            if let run, run.stats.count(outcome) > 0 { return true }
            switch outcome {
            case .add: return mix.weight(.add) > 0
            case .get: return mix.weight(.get) > 0
            case .remove, .removeMissing: return mix.weight(.remove) > 0
            }
        }
    }

    private func row(_ name: String, count: Int, seconds: Double, _ h: Histogram<UInt64>) -> String {
        var line = Format.padRight(name, 12) + " :"
        line += Format.padLeft(Format.fixed(Double(count) / max(seconds, 1e-9), 0), 11)
        line += Format.padLeft(String(count), 11)
        let values: [UInt64] = [h.valueAtPercentile(50), h.valueAtPercentile(99), h.valueAtPercentile(99.9),
                                h.totalCount == 0 ? 0 : h.maxRecorded]
        for v in values { line += Format.padLeft(Self.ms(v), 9) }
        return line + " ms"
    }

    private func errorLines(_ stats: HTTPLoadStats) -> [String] {
        let total = stats.errorCount
        guard total > 0 else { return [Format.padRight("errors", 12) + " : none"] }
        let share = Double(total) * 100 / Double(max(stats.requests, 1))
        var lines = [Format.padRight("errors", 12) + " : \(total) (\(Format.fixed(share, 2)) % of requests)"]
        for (kind, n) in stats.errors.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append(String(repeating: " ", count: 15) + Format.padRight(kind, 44) + Format.padLeft(String(n), 10))
        }
        return lines
    }

    private func cpuLines(_ r: HTTPLoadResult) -> [String] {
        let requests = r.stats.requests
        let cores = r.clientCPUSeconds / max(r.seconds, 1e-9)
        let clientPer1000 = Self.optional(HTTPLoadResult.perThousand(r.clientCPUSeconds, requests: requests), 4)
        var client = Format.padRight("client CPU", 12)
        client += " : \(Format.fixed(r.clientCPUSeconds, 2)) s user+sys in \(Format.fixed(r.seconds, 2)) s"
        client += " (\(Format.fixed(cores, 2)) cores); \(clientPer1000) s per 1,000 requests"
        if let peak = SystemProbe.peakResidentBytes() { client += "; peak RSS \(Format.megabytes(peak))" }
        var lines = [client]
        if !configuration.pids.isEmpty {
            var server = Format.padRight("server CPU", 12) + " : "
            if let cpu = r.serverCPUSeconds {
                let serverCores = Format.fixed(cpu / max(r.seconds, 1e-9), 2)
                let serverPer1000 = Self.optional(HTTPLoadResult.perThousand(cpu, requests: requests), 4)
                server += "\(Format.fixed(cpu, 2)) s user+sys in \(configuration.pids.count) process(es)"
                server += " (\(serverCores) cores); \(serverPer1000) s per 1,000 requests"
            } else {
                server += "n/a (cannot read /proc/PID/stat of every --pids process)"
            }
            let peaks = configuration.pids.map { SystemProbe.peakResidentBytes(pid: $0).map(Format.megabytes) ?? "n/a" }
            server += "; peak RSS " + peaks.joined(separator: " / ")
            lines.append(server)
        }
        return lines
    }

    private static func ms(_ microseconds: UInt64) -> String { Format.fixed(Double(microseconds) / 1000, 2) }

    private static func optional(_ x: Double?, _ digits: Int) -> String { x.map { Format.fixed($0, digits) } ?? "n/a" }

    // MARK: - JSON

    /// The whole report as one line of JSON.
    func json() -> String {
        let c = configuration
        let config = JSONText.object([
            ("nodes", Self.array(c.nodes.map(JSONText.quoted))),
            ("connections", String(c.connections)),
            ("threads", String(c.threads)),
            ("warmupSeconds", String(c.warmupSeconds)),
            ("durationSeconds", String(c.durationSeconds)),
            ("users", String(c.users)),
            ("distribution", JSONText.quoted(c.distribution)),
            ("mix", JSONText.quoted(c.mix.description)),
            ("skus", String(c.skus)),
            ("r", Self.integer(c.readQuorum)),
            ("w", Self.integer(c.writeQuorum)),
            ("seed", String(c.seed)),
            ("timeoutSeconds", String(c.timeoutSeconds)),
            ("pids", Self.array(c.pids.map { String($0) })),
        ])
        var fillJSON = "null"
        if let fill {
            let nodes = fill.nodes.map { s in
                JSONText.object([
                    ("node", JSONText.quoted(s.node)),
                    ("bytesOnDisk", Self.integer(s.bytesOnDisk)),
                    ("memtableBytes", Self.integer(s.memtableBytes)),
                    ("pid", Self.integer(s.pid)),
                    ("peakRSSBytes", Self.integer(s.peakResidentBytes)),
                    ("failure", Self.string(s.failure)),
                ])
            }
            let latency = Self.latencyJSON(count: fill.result.stats.operations, seconds: fill.result.seconds,
                                           fill.result.stats.totalLatency)
            var pairs: [(String, String)] = [
                ("carts", String(fill.carts)),
                ("loaded", String(fill.result.stats.operations)),
                ("seconds", JSONText.number(fill.result.seconds, 3)),
                ("cartsPerSecond", JSONText.number(fill.result.operationsPerSecond, 1)),
                ("latency", latency),
            ]
            pairs += Self.commonJSON(fill.result, pids: c.pids)
            pairs.append(("nodes", Self.array(nodes)))
            fillJSON = JSONText.object(pairs)
        }
        var runJSON = "null"
        if let run {
            let operations: [(String, String)] = shownOutcomes().map { outcome in
                (outcome.name, Self.latencyJSON(count: run.stats.count(outcome), seconds: run.seconds,
                                                run.stats.latency[outcome.rawValue]))
            }
            var pairs: [(String, String)] = [
                ("seconds", JSONText.number(run.seconds, 3)),
                ("operations", JSONText.object(operations)),
                ("total", Self.latencyJSON(count: run.stats.operations, seconds: run.seconds, run.stats.totalLatency)),
            ]
            pairs += Self.commonJSON(run, pids: c.pids)
            runJSON = JSONText.object(pairs)
        }
        return JSONText.object([("configuration", config), ("fill", fillJSON), ("run", runJSON)])
    }

    private static func latencyJSON(count: Int, seconds: Double, _ h: Histogram<UInt64>) -> String {
        JSONText.object([
            ("count", String(count)),
            ("opsPerSecond", JSONText.number(Double(count) / max(seconds, 1e-9), 1)),
            ("p50Ms", JSONText.number(Double(h.valueAtPercentile(50)) / 1000, 3)),
            ("p99Ms", JSONText.number(Double(h.valueAtPercentile(99)) / 1000, 3)),
            ("p999Ms", JSONText.number(Double(h.valueAtPercentile(99.9)) / 1000, 3)),
            ("maxMs", JSONText.number(Double(h.totalCount == 0 ? 0 : h.maxRecorded) / 1000, 3)),
        ])
    }

    /// Requests, errors and CPU of a phase.
    private static func commonJSON(_ r: HTTPLoadResult, pids: [Int32]) -> [(String, String)] {
        let requests = r.stats.requests
        let errors: [(String, String)] = r.stats.errors.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) }
        var server = "null"
        if !pids.isEmpty {
            let peaks = pids.map { pid in Self.integer(SystemProbe.peakResidentBytes(pid: pid)) }
            let cpu = Self.decimal(r.serverCPUSeconds, 3)
            let perThousand = Self.decimal(HTTPLoadResult.perThousand(r.serverCPUSeconds, requests: requests), 5)
            server = JSONText.object([
                ("cpuSeconds", cpu),
                ("cpuSecondsPer1000Requests", perThousand),
                ("peakRSSBytes", Self.array(peaks)),
            ])
        }
        let client = JSONText.object([
            ("cpuSeconds", JSONText.number(r.clientCPUSeconds, 3)),
            ("cpuSecondsPer1000Requests", Self.decimal(HTTPLoadResult.perThousand(r.clientCPUSeconds, requests: requests), 5)),
            ("peakRSSBytes", Self.integer(SystemProbe.peakResidentBytes())),
        ])
        return [
            ("requests", String(requests)),
            ("errorCount", String(r.stats.errorCount)),
            ("errors", JSONText.object(errors)),
            ("client", client),
            ("server", server),
        ]
    }

    private static func integer<T: BinaryInteger>(_ x: T?) -> String { x.map { String($0) } ?? "null" }

    private static func decimal(_ x: Double?, _ digits: Int) -> String { x.map { JSONText.number($0, digits) } ?? "null" }

    private static func string(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }

    private static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}
