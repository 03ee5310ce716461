import ArgumentParser
import CartServer
import Foundation
import Logging
import Metrics
import Prometheus

/// `cartstore-server`: runs one CartStore node until SIGTERM or SIGINT.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartstore-server",
        abstract: "Run one CartStore node.",
        discussion: """
            With no options: a one-node cluster, data in ./cartstore-data, HTTP on 127.0.0.1:8080, peers on \
            127.0.0.1:7070. Settings come from these flags, then CARTSTORE_* environment variables, then the JSON \
            config file (--config or CARTSTORE_CONFIG), then the defaults; see the README.
            """)

    @Option(name: .long, help: "JSON config file (lowest precedence above the defaults).")
    var config: String?
    @Option(name: .customLong("node-id"), help: "This node's id (a positive integer, unique in the cluster).")
    var nodeID: UInt64?
    @Option(name: .long, help: "Data directory.")
    var data: String?
    @Option(name: .long, help: "HTTP listen address HOST:PORT.")
    var http: String?
    @Option(name: .long, help: "Peer (internode) listen address HOST:PORT.")
    var peer: String?
    @Option(name: .long, help: "A cluster member ID=HTTP_HOST:PORT/PEER_HOST:PORT; repeat for every node, this one included.")
    var member: [String] = []
    @Option(name: .customLong("secret-file"), help: "File holding the cluster secret (at least 16 bytes).")
    var secretFile: String?
    @Option(name: .long, help: "Replicas per key (N); default min(3, members).")
    var replicas: Int?
    @Option(name: .long, help: "Default R.")
    var r: Int?
    @Option(name: .long, help: "Default W.")
    var w: Int?
    @Option(name: .customLong("request-timeout-ms"), help: "Default request timeout.")
    var requestTimeoutMs: UInt64?

    @Option(name: .customLong("anti-entropy-interval-ms"),
            help: "How often this node starts an anti-entropy exchange of one partition with a replica (default 100).")
    var antiEntropyIntervalMs: UInt64?
    @Option(name: .customLong("gossip-interval-ms"),
            help: "How often this node gossips its membership view to a random member (1…60000, default 1000).")
    var gossipIntervalMs: UInt64?
    @Option(name: .customLong("partition-bits"), help: "log2 of the ring's partitions (4…16).")
    var partitionBits: Int?
    @Option(name: .customLong("memtable-mb"), help: "Memtable size in MiB.")
    var memtableMB: Int?
    @Option(name: .customLong("cache-mb"), help: "Block cache size in MiB.")
    var cacheMB: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "text or json.")
    var logFormat: String?
    @Flag(name: .customLong("exit-with-parent"), help: "Shut down gracefully when the process that started this one exits (test harnesses, supervisors).")
    var exitWithParent = false

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try resolve()
        } catch {
            FileHandle.standardError.write(Data("cartstore-server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let format = configuration.logFormat
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "cartstore")
        do {
            try await CartStoreServer(configuration: configuration, registry: registry).run(logger: logger, exitWithParent: exitWithParent)
        } catch let error as CartStoreServer.StartError {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// Flags over environment over file.
    private func resolve() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var flags = ServerSettings()
        flags.nodeID = nodeID
        flags.data = data
        flags.http = try http.map { try address($0, "--http") }
        flags.peer = try peer.map { try address($0, "--peer") }
        flags.members = member.isEmpty ? nil : member
        flags.secretFile = secretFile
        flags.replicas = replicas
        flags.r = r
        flags.w = w
        flags.requestTimeoutMs = requestTimeoutMs
        flags.antiEntropyIntervalMs = antiEntropyIntervalMs
        flags.gossipIntervalMs = gossipIntervalMs
        flags.partitionBits = partitionBits
        flags.memtableMB = memtableMB
        flags.cacheMB = cacheMB
        flags.logLevel = logLevel
        flags.logFormat = logFormat
        let file = try (config ?? environment["CARTSTORE_CONFIG"]).map { path throws -> ServerSettings in try ServerConfiguration.file(path) }
        var layered = flags.over(try ServerSettings.environment(environment))
        if let file { layered = layered.over(file) }
        return try ServerConfiguration.resolve(layered)
    }

    private func address(_ text: String, _ flag: String) throws -> HostPort {
        guard let parsed = HostPort(parsing: text) else { throw ServerConfiguration.Invalid.setting(flag, "\"\(text)\" is not HOST:PORT") }
        return parsed
    }
}
