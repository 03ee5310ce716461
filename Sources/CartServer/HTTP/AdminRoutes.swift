import CartCluster
import CartStorage
import HTTPTypes
import Hummingbird

/// `/admin/*`, `/health`, `/ready` and `/metrics`: what an operator asks a node.
struct AdminRoutes: Sendable {
    let runtime: NodeRuntime
    let transport: PeerTransport
    let members: [Member]
    let metrics: ServerMetrics
    /// False until the node serves and again once it stops (graceful shutdown).
    let ready: ServingState

    struct RingBody: Encodable {
        struct Owner: Encodable {
            var node: String
            var partitions: Int
        }
        var partitionBits: Int
        var partitions: Int
        var replicas: Int
        var nodes: [Owner]
    }

    struct MembersBody: Encodable {
        /// One member; the gossip fields are written `null` (never left out) for a member
        /// this node has not heard from.
        struct Entry: Encodable {
            var node: String
            var http: String
            var peer: String
            /// `self`, `up` or `down`: whether this node counts on the member now.
            var status: String
            var connected: Bool
            /// True if the member is itself, or heard from and not judged down.
            var up: Bool
            /// The gossiped record: its member status, life, heartbeat and advertised address.
            var state: String?
            var generation: UInt64?
            var heartbeat: UInt64?
            var address: String?
            /// The failure detector's phi (3 decimals); null for this node and the unheard.
            var phi: Double?
            /// How long ago its last new heartbeat arrived (0 for this node).
            var lastHeardAgoMs: UInt64?

            enum CodingKeys: String, CodingKey {
                case node, http, peer, status, connected, up, state, generation, heartbeat, address, phi, lastHeardAgoMs
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(node, forKey: .node)
                try container.encode(http, forKey: .http)
                try container.encode(peer, forKey: .peer)
                try container.encode(status, forKey: .status)
                try container.encode(connected, forKey: .connected)
                try container.encode(up, forKey: .up)
                try container.encode(state, forKey: .state)
                try container.encode(generation, forKey: .generation)
                try container.encode(heartbeat, forKey: .heartbeat)
                try container.encode(address, forKey: .address)
                try container.encode(phi, forKey: .phi)
                try container.encode(lastHeardAgoMs, forKey: .lastHeardAgoMs)
            }
        }
        var `self`: String
        var members: [Entry]
    }

    struct GossipBody: Encodable {
        /// Gossip rounds this node started, and member records that advanced its view.
        var rounds: Int
        var recordsMerged: Int
        /// Members this node judges up, itself included (as `/admin/members`' `up`).
        var membersUp: Int
    }

    struct StatusBody: Encodable {
        var node: String
        var requestsInFlight: Int
        var clientsWaiting: Int
        var hintsPending: [String: Int]
        var hintBytes: [String: Int]
        var statistics: [String: Int]
        var engine: [String: UInt64]
        var transport: [String: Int]
        var antiEntropy: AntiEntropyBody
        var gossip: GossipBody
    }

    struct AntiEntropyBody: Encodable {
        /// Partition trees built (after a start every one is rebuilt once, in the background).
        var partitionsBuilt: Int
        var partitions: Int
        var exchangesInFlight: Int
        /// Root hash (16 hex digits) of each partition this node replicates, by partition
        /// number; null while its tree is unbuilt.
        var roots: Roots
        var exchanges: Int
        var inSync: Int
        var descents: Int
        var abandoned: Int
        /// Records this node sent to replicas that lacked them or held them differently.
        var keysSent: Int
        /// Records received as repairs (anti-entropy or read repair).
        var repairsReceived: Int
        var treeRebuilds: Int
        var treeRebuildFailures: Int
    }

    /// Partition → root, with an unbuilt partition's root written as `null` (a dictionary of
    /// optionals would leave such keys out, and a reader could not tell unbuilt from not
    /// replicated here).
    struct Roots: Encodable {
        var entries: [(partition: Int, root: UInt64?)]

        private struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (partition, root) in entries {
                let key = Key(stringValue: "\(partition)")
                if let root {
                    let hex = String(root, radix: 16)
                    try container.encode(String(repeating: "0", count: 16 - hex.count) + hex, forKey: key)
                } else {
                    try container.encodeNil(forKey: key)
                }
            }
        }
    }

    func ring(_ request: Request, context: APIRequestContext) throws(APIError) -> Response {
        let ring = runtime.configuration.ring
        let owners = ring.nodes.map { RingBody.Owner(node: "\($0.value)", partitions: ring.partitions(ownedBy: $0).count) }
        return try JSONBody.response(RingBody(partitionBits: ring.partitionBits, partitions: ring.partitionCount,
                                              replicas: runtime.configuration.fallbackNamespace.n, nodes: owners))
    }

    func members(_ request: Request, context: APIRequestContext) throws(APIError) -> Response {
        let snapshot = runtime.snapshot
        let own = runtime.configuration.node
        let entries = MemberSummary.all(members: members, node: own, snapshot: snapshot, transport: transport).map { summary in
            let member = summary.member, report = summary.report
            return MembersBody.Entry(
                node: "\(member.node)", http: "\(member.http)", peer: "\(member.peer)", status: summary.status,
                connected: summary.connected, up: summary.up, state: report.map { "\($0.record.status)" },
                generation: report?.record.generation, heartbeat: report?.record.version, address: report?.record.address,
                phi: report?.phi.map { ($0 * 1_000).rounded() / 1_000 },
                lastHeardAgoMs: report?.lastHeardMs.map { snapshot.atMs &- min(snapshot.atMs, $0) })
        }
        return try JSONBody.response(MembersBody(self: "\(own.value)", members: entries))
    }

    func status(_ request: Request, context: APIRequestContext) throws(APIError) -> Response {
        let snapshot = runtime.snapshot
        let statistics = snapshot.statistics
        let hints = runtime.storage.hints
        var pending: [String: Int] = [:]
        var bytes: [String: Int] = [:]
        for target in hints.targets {
            pending["\(target.value)"] = hints.count(for: target)
            bytes["\(target.value)"] = hints.bytes(for: target)
        }
        let engine = runtime.storage.engine.stats()
        let body = StatusBody(
            node: "\(runtime.configuration.node.value)",
            requestsInFlight: snapshot.requestsInFlight, clientsWaiting: snapshot.waitingClients,
            hintsPending: pending, hintBytes: bytes,
            statistics: [
                "clientRequests": statistics.clientRequests, "forwarded": statistics.forwarded,
                "coordinatedReads": statistics.coordinatedReads, "coordinatedWrites": statistics.coordinatedWrites,
                "rejected": statistics.rejected, "unavailable": statistics.unavailable,
                "storageFailures": statistics.storageFailures, "readRepairsSent": statistics.readRepairsSent,
                "readRepairsSkipped": statistics.readRepairsSkipped, "sloppyWrites": statistics.sloppyWrites,
                "hintsStored": statistics.hintsStored, "hintsDelivered": statistics.hintsDelivered,
                "hintsDropped": statistics.hintsDropped, "hintsRefused": statistics.hintsRefused,
                "hintsUnknown": statistics.hintsUnknown, "suspicions": statistics.suspicions,
                "checkouts": statistics.checkouts, "checkoutsCompleted": statistics.checkoutsCompleted,
                "checkoutsReplayed": statistics.checkoutsReplayed, "checkoutRetries": statistics.checkoutRetries,
                "checkoutsFailed": statistics.checkoutsFailed, "orderRepairs": statistics.orderRepairs,
            ],
            engine: [
                "writes": engine.writes, "writeGroups": engine.writeGroups, "walSyncs": engine.walSyncs,
                "flushes": engine.flushCount, "compactions": engine.compactionCount,
                "userBytes": engine.bytesWrittenByUser, "compactionWrittenBytes": engine.bytesCompactedWritten,
                "cacheHits": engine.cacheHits, "cacheMisses": engine.cacheMisses,
                "memtableBytes": UInt64(engine.memtableBytes), "cacheBytes": UInt64(engine.cacheBytes),
                "segments": UInt64(engine.segmentsPerLevel.reduce(0, +)), "bytesOnDisk": engine.bytesPerLevel.reduce(0, +),
                "stalls": engine.stallCount,
            ],
            transport: [
                "handshakesRefused": transport.counters.refusedHandshakes.load(ordering: .relaxed),
                "messagesRejected": transport.counters.rejectedMessages.load(ordering: .relaxed),
                "messagesDropped": transport.counters.droppedMessages.load(ordering: .relaxed),
            ],
            antiEntropy: antiEntropy(snapshot),
            gossip: GossipBody(rounds: statistics.gossipRounds, recordsMerged: statistics.gossipRecordsMerged,
                               membersUp: MemberSummary.all(members: members, node: runtime.configuration.node, snapshot: snapshot,
                                                            transport: transport).filter(\.up).count))
        return try JSONBody.response(body)
    }

    private func antiEntropy(_ snapshot: NodeRuntime.Snapshot) -> AntiEntropyBody {
        let status = AntiEntropyStatus(configuration: runtime.configuration, store: runtime.storage.replicas,
                                       exchangesInFlight: snapshot.exchangesInFlight)
        let roots = Roots(entries: status.roots.map { ($0.partition, $0.root) })
        let statistics = snapshot.statistics
        return AntiEntropyBody(
            partitionsBuilt: status.partitionsBuilt, partitions: status.partitionCount, exchangesInFlight: status.exchangesInFlight,
            roots: roots, exchanges: statistics.antiEntropyExchanges, inSync: statistics.antiEntropyInSync,
            descents: statistics.antiEntropyDescents, abandoned: statistics.antiEntropyAbandoned,
            keysSent: statistics.antiEntropyKeysSent, repairsReceived: statistics.repairsReceived,
            treeRebuilds: statistics.treeRebuilds, treeRebuildFailures: statistics.treeRebuildFailures)
    }

    func health(_ request: Request, context: APIRequestContext) throws(APIError) -> Response {
        try JSONBody.response(["status": "ok"])
    }

    /// 200 while the node serves and its engine takes writes; 503 while starting or draining, or
    /// once a disk failure stopped writes (the node still serves reads; a restart reopens the
    /// engine and recovery decides what the failed write left).
    func readiness(_ request: Request, context: APIRequestContext) throws(APIError) -> Response {
        guard ready.isServing else { throw APIError(.serviceUnavailable, "not_ready", "the node is starting or stopping") }
        if let refusal = runtime.storage.engine.writeRefusal {
            throw APIError(.serviceUnavailable, "storage_failed", "the engine refuses writes until the node restarts: \(refusal)")
        }
        return try JSONBody.response(["status": "ready"])
    }

    func metricsText(_ request: Request, context: APIRequestContext) -> Response {
        let bytes = metrics.render(runtime: runtime, transport: transport, members: members)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
