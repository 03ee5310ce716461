import CartCluster
import CartStorage
import Prometheus
import Synchronization

/// The node's Prometheus metrics (served at `/metrics`). Per-route request counts and latency
/// histograms come from Hummingbird's `MetricsMiddleware` through swift-metrics, bootstrapped
/// onto the same registry; the protocol's, the engine's and the transport's counts are copied
/// from their snapshots at each scrape (`render`), counters advancing by what changed since.
///
/// Thread safety: `Sendable`.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let exported = Mutex<[String: Int64]>([:])

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Counts a quorum failure answered to a client, by kind (`timed_out`, `unreachable`).
    func quorumFailure(_ error: QuorumError) {
        let kind: String
        switch error {
        case .timedOut: kind = "timed_out"
        case .unreachable: kind = "unreachable"
        }
        registry.makeCounter(descriptor: .init(namespace: "cartstore", metricName: "quorum_failures", unitName: "total",
                                               helpText: "Requests answered 503 because too few replicas answered, by kind"),
                             labels: [("kind", kind)]).increment()
    }

    /// The text exposition, after bringing every copied metric up to date.
    func render(runtime: NodeRuntime, transport: PeerTransport, members: [Member]) -> [UInt8] {
        let snapshot = runtime.snapshot
        let statistics = snapshot.statistics
        let protocolCounters: [(String, Int, String)] = [
            ("client_requests", statistics.clientRequests, "Client requests taken by this node"),
            ("forwarded_requests", statistics.forwarded, "Mutations forwarded to a replica of their key"),
            ("coordinated_reads", statistics.coordinatedReads, "Reads this node coordinated"),
            ("coordinated_writes", statistics.coordinatedWrites, "Mutations this node coordinated"),
            ("rejected_requests", statistics.rejected, "Requests refused as invalid"),
            ("unavailable_requests", statistics.unavailable, "Requests answered without a quorum"),
            ("storage_failures", statistics.storageFailures, "Requests failed by this node's storage"),
            ("read_repairs", statistics.readRepairsSent, "Read repairs sent"),
            ("read_repairs_skipped", statistics.readRepairsSkipped, "Read repairs over the rate limit, not sent"),
            ("sloppy_writes", statistics.sloppyWrites, "Writes sent to a fallback node with a hint"),
            ("hints_stored", statistics.hintsStored, "Hints taken as a fallback"),
            ("hints_delivered", statistics.hintsDelivered, "Hints delivered to their owner"),
            ("hints_dropped", statistics.hintsDropped, "Hints dropped past their age bound"),
            ("hints_refused", statistics.hintsRefused, "Hints refused over their owner's byte bound"),
            ("hints_unknown", statistics.hintsUnknown, "Hints whose store or delete failed with an unknown outcome"),
            ("suspicions", statistics.suspicions, "Times a peer was suspected (silent past the replica timeout)"),
            ("anti_entropy_exchanges", statistics.antiEntropyExchanges, "Anti-entropy exchanges this node started"),
            ("anti_entropy_in_sync", statistics.antiEntropyInSync, "Anti-entropy exchanges that found the partition in sync"),
            ("anti_entropy_descents", statistics.antiEntropyDescents, "Anti-entropy exchanges that descended to differing keys"),
            ("anti_entropy_abandoned", statistics.antiEntropyAbandoned, "Anti-entropy exchanges timed out or refused (tree not built)"),
            ("anti_entropy_keys_sent", statistics.antiEntropyKeysSent, "Records sent by anti-entropy to replicas lacking them"),
            ("repairs_received", statistics.repairsReceived, "Records received as repairs (anti-entropy or read repair)"),
            ("tree_rebuilds", statistics.treeRebuilds, "Partition trees rebuilt from a scan"),
            ("tree_rebuild_failures", statistics.treeRebuildFailures, "Partition tree rebuilds that failed"),
            ("checkouts", statistics.checkouts, "Checkouts this node coordinated"),
            ("checkouts_completed", statistics.checkoutsCompleted, "Checkouts answered with their order"),
            ("checkouts_replayed", statistics.checkoutsReplayed,
             "Checkouts answered with an order an earlier attempt with the same id decided"),
            ("checkout_retries", statistics.checkoutRetries, "Paxos rounds of a checkout started again after a refusal"),
            ("checkouts_failed", statistics.checkoutsFailed, "Checkouts that ended without an order (refused, unavailable, timed out)"),
            ("order_repairs", statistics.orderRepairs, "Decided orders sent to acceptors that lacked them, after an order read"),
            ("gossip_rounds", statistics.gossipRounds, "Gossip rounds this node started"),
            ("gossip_records_merged", statistics.gossipRecordsMerged, "Member records from gossip that advanced this node's view"),
        ]
        for (name, value, help) in protocolCounters { advance(name, to: Int64(value), help: help) }
        let engine = runtime.storage.engine.stats()
        let engineCounters: [(String, UInt64, String)] = [
            ("engine_writes", engine.writes, "Writes applied by the engine"),
            ("engine_write_groups", engine.writeGroups, "Group commits"),
            ("engine_wal_syncs", engine.walSyncs, "WAL fdatasyncs"),
            ("engine_flushes", engine.flushCount, "Memtable flushes"),
            ("engine_compactions", engine.compactionCount, "Compactions"),
            ("engine_user_bytes", engine.bytesWrittenByUser, "Bytes written by users"),
            ("engine_compaction_written_bytes", engine.bytesCompactedWritten, "Bytes written by compactions"),
            ("engine_cache_hits", engine.cacheHits, "Block cache hits"),
            ("engine_cache_misses", engine.cacheMisses, "Block cache misses"),
            ("engine_stalls", engine.stallCount, "Writes stalled by level 0"),
        ]
        for (name, value, help) in engineCounters { advance(name, to: Int64(clamping: value), help: help) }
        gauge("engine_memtable_bytes", Int64(engine.memtableBytes), help: "Bytes in the memtables")
        gauge("engine_cache_bytes", Int64(engine.cacheBytes), help: "Bytes in the block cache")
        gauge("engine_open_files", Int64(engine.openFiles), help: "Open segment files")
        for (level, bytes) in engine.bytesPerLevel.enumerated() {
            gauge("engine_level_bytes", Int64(clamping: bytes), labels: [("level", "\(level)")], help: "Bytes of segments per level")
        }
        gauge("requests_in_flight", Int64(snapshot.requestsInFlight), help: "Requests the node is working on")
        gauge("tree_partitions_built", Int64(runtime.storage.replicas.treePartitionsBuilt),
              help: "Partitions whose anti-entropy tree is built")
        let summaries = MemberSummary.all(members: members, node: runtime.configuration.node, snapshot: snapshot, transport: transport)
        gauge("members_up", Int64(summaries.filter(\.up).count),
              help: "Members this node judges up (heard from through gossip and not judged down), itself included")
        for summary in summaries where !summary.isSelf {
            guard let phi = summary.report?.phi else { continue }
            gauge("peer_phi", fraction: phi, labels: [("peer", "\(summary.member.node)")],
                  help: "The failure detector's phi for the peer (down above the threshold, 8 by default)")
        }
        let hints = runtime.storage.hints
        for member in members where member.id != runtime.configuration.node {
            let target = "\(member.node)"
            gauge("hints_pending", Int64(hints.count(for: member.id)), labels: [("target", target)], help: "Hints held per owner")
            gauge("peer_connected", transport.isConnected(to: member.id) ? 1 : 0, labels: [("peer", target)],
                  help: "1 while the outgoing link to the peer is authenticated and open")
            gauge("peer_suspected", snapshot.suspected.contains(member.id) ? 1 : 0, labels: [("peer", target)],
                  help: "1 while this node suspects the peer")
        }
        advance("peer_handshakes_refused", to: Int64(transport.counters.refusedHandshakes.load(ordering: .relaxed)),
                help: "Peer handshakes refused or failed (wrong secret, unknown node, malformed)")
        advance("peer_messages_rejected", to: Int64(transport.counters.rejectedMessages.load(ordering: .relaxed)),
                help: "Peer messages that failed authentication or decoding")
        advance("peer_messages_dropped", to: Int64(transport.counters.droppedMessages.load(ordering: .relaxed)),
                help: "Messages dropped because a peer's send queue was full")
        return registry.emitToBuffer()
    }

    private func advance(_ name: String, to value: Int64, labels: [(String, String)] = [], help: String) {
        let counter = registry.makeCounter(descriptor: .init(namespace: "cartstore", metricName: name, unitName: "total", helpText: help),
                                           labels: labels)
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLock { exported -> Int64 in
            let delta = value - (exported[key] ?? 0)
            exported[key] = value
            return delta
        }
        if delta > 0 { counter.increment(by: delta) }
    }

    private func gauge(_ name: String, _ value: Int64, labels: [(String, String)] = [], help: String) {
        registry.makeGauge(descriptor: .init(namespace: "cartstore", metricName: name, unitName: "", helpText: help), labels: labels).set(value)
    }

    private func gauge(_ name: String, fraction value: Double, labels: [(String, String)] = [], help: String) {
        registry.makeGauge(descriptor: .init(namespace: "cartstore", metricName: name, unitName: "", helpText: help), labels: labels).set(value)
    }
}
