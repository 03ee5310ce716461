import CartCluster
import CartStorage
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// One CartStore node: its engine, its protocol runtime, its peer transport and its HTTP API,
/// run until SIGTERM or SIGINT.
///
/// Start-up: open the engine (a directory another process holds is refused at once), bind the
/// peer port and start dialling peers, start the node, then serve HTTP; `/ready` answers 200
/// from then on. Shutdown (graceful, on SIGTERM/SIGINT): `/ready` turns 503, the HTTP server
/// stops accepting and finishes the requests in flight, the node drains what it still
/// coordinates (bounded by the request timeout), the transport closes, and the engine closes
/// (hints and every acknowledged write are already durable). The process then exits 0.
public struct CartStoreServer: Sendable {
    public let configuration: ServerConfiguration
    public let registry: PrometheusCollectorRegistry

    public init(configuration: ServerConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.configuration = configuration
        self.registry = registry
    }

    /// Why a node could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the node until a shutdown signal (or, with `exitWithParent`, until the process that
    /// started it exits).
    public func run(logger: Logger, exitWithParent: Bool = false) async throws {
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.node.value)"
        let clock = WallClock()
        let engine: StorageEngine
        do {
            engine = try StorageEngine.open(configuration.dataDirectory, options: configuration.storageOptions(logger: logger))
        } catch {
            throw StartError(description: "cannot open the data directory \(configuration.dataDirectory): \(error)")
        }
        let storage: NodeStorage
        do {
            // Unsynced acks are allowed because the runtime syncs each batch before any of its
            // effects leave the node (`NodeRuntime`: group commit above the engine).
            storage = try NodeStorage(engine: engine, node: configuration.node, freshEpoch: UInt32(truncatingIfNeeded: clock.nowMs() / 1_000),
                                      startMs: clock.nowMs(),
                                      treeShape: .standard(partitionBits: configuration.protocolConfiguration.ring.partitionBits),
                                      allowUnsyncedAcks: true)
        } catch {
            try? engine.close()
            throw StartError(description: "\(error)")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let transport = PeerTransport(node: configuration.node, members: configuration.members, listen: configuration.peer,
                                      secret: configuration.secret, group: group, logger: logger)
        let runtime: NodeRuntime
        do {
            runtime = try NodeRuntime(configuration: configuration.protocolConfiguration, storage: storage, transport: transport,
                                      clock: clock, logger: logger)
        } catch {
            try? engine.close()
            throw StartError(description: "\(error)")
        }
        let peerAddress: SocketAddress
        do {
            peerAddress = try await transport.start()
        } catch {
            await transport.stop()
            try? engine.close()
            throw StartError(description: "cannot listen for peers on \(configuration.peer): \(error)")
        }
        runtime.start()

        let ready = ServingState()
        let metrics = ServerMetrics(registry: registry)
        let api = APIRouter(runtime: runtime, transport: transport, members: configuration.members, metrics: metrics, ready: ready)
        let httpLogger = logger
        let app = Application(
            router: api.build(node: configuration.node.value),
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port),
                                 serverName: "cartstore/\(configuration.node.value)"),
            onServerRunning: { channel in
                ready.set(true)
                httpLogger.notice("serving", metadata: [
                    "http": "\(channel.localAddress.map { "\($0)" } ?? "?")", "peer": "\(peerAddress)",
                    "data": "\(configuration.dataDirectory)", "members": "\(configuration.members.count)",
                    "replica": "\(storage.replicaID)",
                ])
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
        let node = NodeService(runtime: runtime, transport: transport, engine: engine,
                               drainMs: configuration.protocolConfiguration.requestTimeoutMaxMs, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: node),
            .init(service: app),
            .init(service: ReadinessService(ready: ready, logger: logger)),
        ]
        if exitWithParent {
            services.append(.init(service: ParentWatchService(logger: logger), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await serviceGroup.run()
    }
}
