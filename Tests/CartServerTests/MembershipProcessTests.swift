import CartTestSupport
import Foundation
import Testing

/// Gossip membership and the phi accrual failure detector across real `cartstore-server`
/// processes, as `/admin/members`, `/admin/status`, `/metrics` and `cartstore members` show
/// them: three nodes converge on one view (every member normal and up, one generation per
/// member everywhere, heartbeats moving); a node killed with SIGKILL is judged down by the
/// other two (phi over the threshold of 8); restarted, it is up again in a higher generation.
@Suite("Gossip membership between real servers", .serialized, .timeLimit(.minutes(3)))
struct MembershipProcessTests {
    /// Gossip every 100 ms: a dead node's phi passes 8 after about 18 mean heartbeat
    /// intervals (under 2 s) instead of the default's 18 s.
    static let arguments = ["--gossip-interval-ms", "100"]

    /// One entry of `/admin/members`.
    struct MemberView: Decodable {
        var node: String
        var peer: String
        var status: String
        var connected: Bool
        var up: Bool
        var state: String?
        var generation: UInt64?
        var heartbeat: UInt64?
        var address: String?
        var phi: Double?
        var lastHeardAgoMs: UInt64?
    }

    struct MembersView: Decodable {
        var members: [MemberView]
    }

    /// Node `viewer`'s view: member id → entry.
    private func view(_ cluster: ServerCluster, _ viewer: Int) async throws -> [Int: MemberView] {
        let answer = try await cluster.client.send("GET", cluster.url(viewer, "/admin/members"))
        guard answer.status == 200 else { throw ServerCluster.Failure("node \(viewer) /admin/members: \(answer.status) \(answer.text)") }
        let body = try JSONDecoder().decode(MembersView.self, from: Data(answer.body))
        var view: [Int: MemberView] = [:]
        for member in body.members { view[Int(member.node) ?? 0] = member }
        return view
    }

    /// Polls every `viewers`' view until `accept` returns nil for all of them (it returns what
    /// is still wrong), or throws after `seconds` with the last complaint.
    @discardableResult
    private func waitForViews(_ cluster: ServerCluster, _ what: String, viewers: [Int], seconds: Double,
                              _ accept: (Int, [Int: MemberView]) -> String?) async throws -> [Int: [Int: MemberView]] {
        let deadline = Date().addingTimeInterval(seconds)
        var complaint = "no view read"
        while Date() < deadline {
            var views: [Int: [Int: MemberView]] = [:]
            for viewer in viewers { views[viewer] = try await view(cluster, viewer) }
            let complaints = viewers.compactMap { viewer in accept(viewer, views[viewer]!).map { "node \(viewer): \($0)" } }
            if complaints.isEmpty { return views }
            complaint = complaints.joined(separator: "; ")
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerCluster.Failure("\(what): not within \(seconds) s; last: \(complaint)")
    }

    @Test("three nodes agree on membership; a killed node is judged down (phi > 8), and up again in a higher generation once restarted")
    func gossipAndFailureDetection() async throws {
        let cluster = try ServerCluster(nodes: 3)
        defer { cluster.stopAll() }
        for node in 1...3 { try cluster.start(node, extraArguments: Self.arguments) }
        for node in 1...3 { try await cluster.waitReady(node) }

        // Convergence: every node sees all three, normal and up, each advertising its peer address.
        let converged = try await waitForViews(cluster, "all three normal and up everywhere", viewers: [1, 2, 3], seconds: 20) { viewer, view in
            for member in 1...3 {
                guard let entry = view[member] else { return "member \(member) missing" }
                guard entry.state == "normal", entry.up, entry.generation != nil, entry.heartbeat != nil,
                      entry.status == (member == viewer ? "self" : "up") else { return "member \(member): \(entry)" }
                guard entry.address == entry.peer else { return "member \(member) advertises \(entry.address ?? "nil"), listed \(entry.peer)" }
            }
            return nil
        }
        for member in 1...3 {
            let generations = Set((1...3).compactMap { converged[$0]?[member]?.generation })
            #expect(generations.count == 1, "node \(member)'s generation as the three nodes see it: \(generations)")
            for viewer in 1...3 where viewer != member {
                let entry = converged[viewer]![member]!
                #expect((entry.phi ?? .infinity) < 8 && entry.lastHeardAgoMs != nil, "node \(viewer) on node \(member): \(entry)")
            }
            #expect(converged[member]![member]!.phi == nil && converged[member]![member]!.lastHeardAgoMs == 0, "own entry: \(converged[member]![member]!)")
        }
        let raw = try await cluster.client.send("GET", cluster.url(1, "/admin/members")).text
        #expect(raw.contains(#""phi":null"#), "the own entry's phi is written as null: \(raw)")

        // Heartbeats move: every node's heartbeat, as every node sees it, goes past the first read.
        try await waitForViews(cluster, "every heartbeat advances", viewers: [1, 2, 3], seconds: 10) { viewer, view in
            for member in 1...3 {
                let before = converged[viewer]![member]!.heartbeat!
                guard let now = view[member]?.heartbeat, now > before else {
                    return "member \(member)'s heartbeat still \(view[member]?.heartbeat.map(String.init) ?? "nil") (was \(before))"
                }
            }
            return nil
        }
        let status = try await cluster.client.send("GET", cluster.url(1, "/admin/status")).json
        let gossip = status["gossip"] as? [String: Any]
        #expect(((gossip?["rounds"] as? NSNumber)?.intValue ?? 0) > 0 && ((gossip?["recordsMerged"] as? NSNumber)?.intValue ?? 0) > 0,
                "gossip counters in /admin/status: \(String(describing: gossip))")
        #expect((gossip?["membersUp"] as? NSNumber)?.intValue == 3)
        #expect((status["statistics"] as? [String: Any])?["checkouts"] != nil, "checkout counters in /admin/status")

        let table = try ServerCluster.runCLI(["members", "--node", "127.0.0.1:\(cluster.nodes[0].http)"])
        #expect(table.status == 0, "\(table.err)")
        let lines = table.out.split(separator: "\n")
        #expect(lines.contains { $0.contains("STATE") && $0.contains("DETECTOR") && $0.contains("PHI") && $0.contains("HEARTBEAT") && $0.contains("LAST HEARD") },
                "cartstore members:\n\(table.out)")
        #expect(lines.filter { $0.contains("normal") }.count == 3, "cartstore members:\n\(table.out)")

        // A crash: the other two judge node 3 down once its silence makes phi pass 8.
        let generation3 = converged[1]![3]!.generation!
        cluster.kill(3)
        let killed = Date()
        try await waitForViews(cluster, "node 3 judged down by nodes 1 and 2", viewers: [1, 2], seconds: 20) { _, view in
            guard let entry = view[3] else { return "member 3 missing" }
            guard !entry.up, (entry.phi ?? 0) > 8, entry.status == "down", entry.generation == generation3 else { return "member 3: \(entry)" }
            return nil
        }
        print("nodes 1 and 2 judged the killed node 3 down within \(String(format: "%.1f", Date().timeIntervalSince(killed))) s")
        // The survivors still judge each other up (eventually: a busy machine may pause one).
        try await waitForViews(cluster, "nodes 1 and 2 up for each other", viewers: [1, 2], seconds: 10) { _, view in
            [1, 2].allSatisfy { view[$0]?.up == true } ? nil : "\(view.mapValues(\.up))"
        }

        let metrics = try await cluster.client.send("GET", cluster.url(1, "/metrics")).text.split(separator: "\n")
        func sample(_ series: String) -> Double? {
            metrics.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(sample("cartstore_members_up") == 2, "\(metrics.filter { $0.contains("members_up") })")
        #expect((sample("cartstore_gossip_rounds_total") ?? 0) > 0 && (sample("cartstore_gossip_records_merged_total") ?? 0) > 0)
        #expect((sample(#"cartstore_peer_phi{peer="3"}"#) ?? 0) > 8, "node 1's phi metric for node 3: \(metrics.filter { $0.contains("phi") })")

        // A restart: a new generation, up again for the others.
        try cluster.start(3, extraArguments: Self.arguments)
        try await cluster.waitReady(3)
        try await waitForViews(cluster, "node 3 up again in a higher generation", viewers: [1, 2, 3], seconds: 20) { _, view in
            for member in 1...3 {
                guard let entry = view[member], entry.up, entry.state == "normal" else { return "member \(member): \(String(describing: view[member]))" }
            }
            guard let generation = view[3]?.generation, generation > generation3 else {
                return "member 3's generation \(view[3]?.generation.map(String.init) ?? "nil"), was \(generation3)"
            }
            return nil
        }
    }
}
