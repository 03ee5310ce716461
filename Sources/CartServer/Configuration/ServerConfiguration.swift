import CartCluster
import CartStorage
import Foundation
import Logging

/// A node's resolved configuration: every setting decided, checked, and the cluster secret read.
///
/// Precedence, field by field: flags, then environment variables, then the config file (named
/// by `--config` or `CARTSTORE_CONFIG`), then the defaults below. With no settings at all, a node
/// is a one-node cluster with id 1, data in `./cartstore-data`, HTTP on 127.0.0.1:8080 and the
/// peer port on 127.0.0.1:7070.
public struct ServerConfiguration: Sendable {
    public var node: NodeID
    public var dataDirectory: String
    public var http: HostPort
    public var peer: HostPort
    /// Every node of the cluster, this one included, by id.
    public var members: [Member]
    /// The cluster secret's bytes (at least 16). A one-node cluster without one gets a random
    /// secret: it has no peers to share it with.
    public var secret: [UInt8]
    public var protocolConfiguration: NodeConfiguration
    public var memtableBytes: Int
    public var cacheBytes: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat

    /// How log lines are written.
    public enum LogFormat: String, Sendable { case text, json }

    /// A setting that cannot be used, named as the operator wrote it.
    public enum Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        case setting(String, String)

        public var description: String {
            switch self {
            case let .setting(name, reason): return "\(name): \(reason)"
            }
        }
    }

    /// The least secret length, in bytes.
    public static let secretBytesMin = 16
    /// The longest gossip interval: the failure detector counts intervals up to 20 of them,
    /// and a minute between heartbeats already means minutes to notice a dead node.
    public static let gossipIntervalMsMax: UInt64 = 60_000
    /// Longest anti-entropy interval (an hour).
    public static let antiEntropyIntervalMsMax: UInt64 = 3_600_000

    /// Resolves `layer` (flags over environment over file, already stacked) over the defaults.
    public static func resolve(_ layer: ServerSettings) throws(Invalid) -> ServerConfiguration {
        let nodeValue = layer.nodeID ?? 1
        guard nodeValue > 0 else { throw .setting("nodeID", "must be positive") }
        let node = NodeID(nodeValue)
        var members: [Member] = []
        for text in layer.members ?? [] {
            guard let member = Member(parsing: text) else {
                throw .setting("members", "\"\(text)\" is not ID=HTTP_HOST:PORT/PEER_HOST:PORT")
            }
            guard !members.contains(where: { $0.node == member.node }) else {
                throw .setting("members", "node \(member.node) is listed twice")
            }
            members.append(member)
        }
        let own = members.first { $0.node == nodeValue }
        if !members.isEmpty && own == nil {
            throw .setting("members", "the list does not name this node (\(nodeValue))")
        }
        let http = layer.http ?? own?.http ?? HostPort(host: "127.0.0.1", port: 8080)
        let peer = layer.peer ?? own?.peer ?? HostPort(host: "127.0.0.1", port: 7070)
        if members.isEmpty { members = [Member(node: nodeValue, http: http, peer: peer)] }
        members.sort { $0.node < $1.node }

        let secret: [UInt8]
        if let text = layer.secret {
            secret = Array(text.utf8)
        } else if let path = layer.secretFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .setting("secretFile", "cannot read \(path)")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            secret = Array(text.utf8)
        } else if members.count == 1 {
            var generator = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        } else {
            throw .setting("secret", "a cluster of \(members.count) nodes needs a shared secret (--secret-file or CARTSTORE_SECRET)")
        }
        guard secret.count >= secretBytesMin else {
            throw .setting("secret", "\(secret.count) bytes; at least \(secretBytesMin) are needed")
        }

        let ring: Ring
        do {
            ring = try Ring(nodes: members.map(\.id), partitionBits: layer.partitionBits ?? 10,
                            targetN: min(3, members.count))
        } catch {
            throw .setting("ring", "\(error)")
        }
        var protocolConfiguration = NodeConfiguration(node: node, ring: ring)
        let replicas = layer.replicas ?? min(3, members.count)
        guard (1...min(members.count, QuorumParameters.nMax)).contains(replicas) else {
            throw .setting("replicas", "\(replicas) outside 1…\(min(members.count, QuorumParameters.nMax)) (the cluster has \(members.count) nodes)")
        }
        protocolConfiguration.namespaces = [KeyNamespace(prefix: "cart:", policy: .cart, n: replicas)]
        protocolConfiguration.fallbackNamespace = KeyNamespace(prefix: "", policy: .siblings, n: replicas)
        protocolConfiguration.defaultR = layer.r ?? min(2, replicas)
        protocolConfiguration.defaultW = layer.w ?? min(2, replicas)
        guard (1...replicas).contains(protocolConfiguration.defaultR) else { throw .setting("r", "outside 1…\(replicas)") }
        guard (1...replicas).contains(protocolConfiguration.defaultW) else { throw .setting("w", "outside 1…\(replicas)") }
        // Bounded so that no timer arithmetic can overflow, whatever an operator writes.
        if let timeout = layer.requestTimeoutMs {
            guard (1...protocolConfiguration.requestTimeoutMaxMs).contains(timeout) else {
                throw .setting("requestTimeoutMs", "\(timeout) outside 1…\(protocolConfiguration.requestTimeoutMaxMs)")
            }
            protocolConfiguration.requestTimeoutMs = timeout
        }
        if let interval = layer.antiEntropyIntervalMs {
            guard (1...antiEntropyIntervalMsMax).contains(interval) else {
                throw .setting("antiEntropyIntervalMs", "\(interval) outside 1…\(antiEntropyIntervalMsMax)")
            }
            protocolConfiguration.antiEntropyIntervalMs = interval
        }
        if let interval = layer.gossipIntervalMs {
            guard (1...gossipIntervalMsMax).contains(interval) else {
                throw .setting("gossipIntervalMs", "\(interval) outside 1…\(gossipIntervalMsMax)")
            }
            protocolConfiguration.gossipIntervalMs = interval
        }
        // Gossip carries the address peers know this node by: its entry in the member list
        // (the listen address may be a wildcard such as 0.0.0.0).
        protocolConfiguration.address = (own?.peer ?? peer).description
        do { try protocolConfiguration.validate() } catch { throw .setting("cluster", "\(error)") }

        let memtableMB = layer.memtableMB ?? 64
        let cacheMB = layer.cacheMB ?? 64
        guard (1...4096).contains(memtableMB) else { throw .setting("memtableMB", "outside 1…4096") }
        guard (0...65_536).contains(cacheMB) else { throw .setting("cacheMB", "outside 0…65536") }
        let levelText = layer.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw .setting("logLevel", "unknown level \"\(levelText)\"") }
        let formatText = layer.logFormat ?? "text"
        guard let format = LogFormat(rawValue: formatText) else { throw .setting("logFormat", "\"\(formatText)\" is not text or json") }

        return ServerConfiguration(node: node, dataDirectory: layer.data ?? "./cartstore-data", http: http, peer: peer,
                                   members: members, secret: secret, protocolConfiguration: protocolConfiguration,
                                   memtableBytes: memtableMB << 20, cacheBytes: cacheMB << 20, logLevel: level, logFormat: format)
    }

    /// Reads a config file layer.
    public static func file(_ path: String) throws(Invalid) -> ServerSettings {
        guard let data = FileManager.default.contents(atPath: path) else { throw .setting("config", "cannot read \(path)") }
        do {
            return try JSONDecoder().decode(ServerSettings.self, from: data)
        } catch {
            throw .setting("config", "\(path): \(error)")
        }
    }

    /// The engine's options for this node. `sync = .none`: the node runtime syncs the WAL once
    /// per batch of events before any of their acknowledgements leave the node, so every
    /// acknowledged write is still on disk (`NodeRuntime`).
    public func storageOptions(logger: Logger) -> StorageOptions {
        var options = StorageOptions()
        options.sync = .none
        options.memtableBytes = memtableBytes
        options.blockCacheBytes = cacheBytes
        options.logger = logger
        return options
    }
}
