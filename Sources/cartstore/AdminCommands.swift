import ArgumentParser

/// The cluster inspection commands `cartstore ring`, `cartstore members` and
/// `cartstore status`, which read the answering node's `/admin` routes.
enum AdminCommands {
    /// Orders node ids numerically when both are numbers (`2` before `10`), else as text.
    static func nodeOrder(_ a: String, _ b: String) -> Bool {
        if let x = Int(a), let y = Int(b), x != y { return x < y }
        return a < b
    }

    /// `part` as a percentage of `whole` with one decimal (`33.4%`).
    static func percentage(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "-" }
        let tenths = (part * 1000 + whole / 2) / whole
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// `cartstore ring`: the partition layout and each node's share of it.
    struct Ring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ring",
            abstract: "Show the ring: partitions, replicas and the partitions each node owns."
        )

        @OptionGroup(title: "Node options") var options: NodeOptions

        func run() async throws {
            let options = self.options
            try await APIClient.withClient(options) { client in
                let response = try client.expectSuccess(try await client.request(.get, "/admin/ring"))
                if options.json {
                    Console.json(response.body)
                    return
                }
                let ring = try client.decode(RingResponse.self, from: response)
                var summary = "partitions: \(ring.partitions)"
                if let bits = ring.partitionBits { summary += " (2^\(bits))" }
                if let replicas = ring.replicas { summary += "  replicas: \(replicas)" }
                summary += "  nodes: \(ring.nodes.count)"
                Console.out(summary)
                var table = TableFormatter([.init("NODE"), .init("PARTITIONS", .right), .init("SHARE", .right)])
                for share in ring.nodes.sorted(by: { AdminCommands.nodeOrder($0.node, $1.node) }) {
                    table.append([
                        share.node,
                        String(share.partitions),
                        AdminCommands.percentage(share.partitions, of: ring.partitions),
                    ])
                }
                for line in table.lines() { Console.out(line) }
            }
        }
    }

    /// `cartstore members`: every member the answering node knows and how it sees it.
    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "members",
            abstract: "List the cluster's members as the answering node sees them."
        )

        @OptionGroup(title: "Node options") var options: NodeOptions

        func run() async throws {
            let options = self.options
            try await APIClient.withClient(options) { client in
                let response = try client.expectSuccess(try await client.request(.get, "/admin/members"))
                if options.json {
                    Console.json(response.body)
                    return
                }
                let members = try client.decode(MembersResponse.self, from: response)
                var table = TableFormatter([
                    .init("NODE"), .init("HTTP"), .init("PEER"), .init("STATUS"), .init("CONNECTED"), .init("STATE"),
                    .init("DETECTOR"), .init("PHI", .right), .init("HEARTBEAT", .right), .init("LAST HEARD", .right),
                ])
                for member in members.members.sorted(by: { AdminCommands.nodeOrder($0.node, $1.node) }) {
                    table.append(Self.row(member))
                }
                if let selfNode = members.selfNode { Console.out("answered by node \(selfNode)") }
                for line in table.lines() { Console.out(line) }
            }
        }

        /// One member's cells: `-` for what the server did not say (a member not heard from
        /// through gossip, or an older server), phi with two decimals, the last heartbeat's age
        /// in ms or seconds.
        static func row(_ member: MembersResponse.Member) -> [String] {
            func yesNo(_ value: Bool?) -> String { value.map { $0 ? "yes" : "no" } ?? "-" }
            let lastHeard = member.lastHeardAgoMs.map { ago in
                ago < 10_000 ? "\(ago) ms ago" : "\(ago / 1_000) s ago"
            }
            return [
                member.node, member.http ?? "-", member.peer ?? "-", member.status, yesNo(member.connected),
                member.state ?? "-", member.up.map { $0 ? "up" : "down" } ?? "-", member.phi.map { Self.twoDecimals($0) } ?? "-",
                member.heartbeat.map(String.init) ?? "-", lastHeard ?? "-",
            ]
        }

        /// A non-negative `value` with two decimals (`12.35`), without Foundation's
        /// locale-dependent formatting; anything else (negative, huge, not finite) as Swift prints it.
        static func twoDecimals(_ value: Double) -> String {
            guard value.isFinite, (0..<1e12).contains(value) else { return "\(value)" }
            let hundredths = Int64((value * 100).rounded())
            let rest = hundredths % 100
            return "\(hundredths / 100).\(rest < 10 ? "0" : "")\(rest)"
        }
    }

    /// `cartstore status`: the answering node's state as `key: value` lines (requests in
    /// flight, hints pending per target, then statistics (checkouts among them), engine,
    /// transport, anti-entropy and gossip figures).
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show the answering node's status: requests in flight, hints pending, statistics."
        )

        @OptionGroup(title: "Node options") var options: NodeOptions

        func run() async throws {
            let options = self.options
            try await APIClient.withClient(options) { client in
                let response = try client.expectSuccess(try await client.request(.get, "/admin/status"))
                if options.json {
                    Console.json(response.body)
                    return
                }
                let status = try client.decodeJSON(from: response)
                for line in Self.lines(status) { Console.out(line) }
            }
        }

        /// The `key: value` lines for a status body, keys aligned: node, requests in flight,
        /// clients waiting, hints pending (the total, then one line per target node with its
        /// bytes), then every other member flattened to dotted paths in key order, except the
        /// anti-entropy roots, summarized in one line.
        static func lines(_ status: JSONValue) -> [String] {
            var pairs: [(key: String, value: String)] = []
            if let node = status["node"] { pairs.append((key: "node", value: node.displayText)) }
            if let inFlight = status["requestsInFlight"] {
                pairs.append((key: "requests in flight", value: inFlight.displayText))
            }
            if let waiting = status["clientsWaiting"] {
                pairs.append((key: "clients waiting", value: waiting.displayText))
            }
            if let hints = status["hintsPending"] {
                if case .object(let targets) = hints {
                    var total: Int64 = 0
                    for case .integer(let count) in targets.values { total += count }
                    pairs.append((key: "hints pending", value: targets.isEmpty ? "0" : "\(total) total"))
                    for (target, count) in targets.sorted(by: { AdminCommands.nodeOrder($0.key, $1.key) }) {
                        var value = count.displayText
                        if let bytes = status["hintBytes"]?[target] { value += " (\(bytes.displayText) bytes)" }
                        pairs.append((key: "hints pending for node \(target)", value: value))
                    }
                } else {
                    pairs.append((key: "hints pending", value: hints.displayText))
                }
            }
            let known: Set<String> = ["node", "requestsInFlight", "clientsWaiting", "hintsPending", "hintBytes"]
            if case .object(let members) = status {
                for (key, value) in members.sorted(by: { $0.key < $1.key }) where !known.contains(key) {
                    for leaf in value.flattened(prefix: key) where !leaf.path.hasPrefix("antiEntropy.roots.") {
                        pairs.append((key: leaf.path, value: leaf.value.displayText))
                    }
                }
            }
            // One root per partition is too many lines: their count, and how many are unbuilt.
            if case .object(let roots)? = status["antiEntropy"]?["roots"] {
                let unbuilt = roots.values.filter { if case .null = $0 { return true } else { return false } }.count
                pairs.append((key: "antiEntropy.roots", value: "\(roots.count) partitions replicated here, \(unbuilt) unbuilt"))
            }
            let width = pairs.map { $0.key.count + 1 }.max() ?? 0
            return pairs.map { pair in
                let label = pair.key + ":"
                return label + String(repeating: " ", count: width - label.count + 1) + pair.value
            }
        }
    }
}
