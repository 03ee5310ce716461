/// One layer of a node's settings: every field optional, so that layers stack. A node's
/// configuration is, field by field, the first layer that sets it in the order
/// **flags, environment, config file, defaults** (`ServerConfiguration.resolve`).
///
/// The config file is JSON with these field names, e.g.
/// `{"nodeID": 2, "data": "/var/lib/cartstore", "http": "0.0.0.0:8080", "peer": "10.0.0.2:7070",
///   "members": ["1=10.0.0.1:8080/10.0.0.1:7070", "2=10.0.0.2:8080/10.0.0.2:7070"],
///   "secretFile": "/etc/cartstore/secret", "logLevel": "info"}`.
public struct ServerSettings: Hashable, Sendable, Codable {
    public var nodeID: UInt64?
    public var data: String?
    public var http: HostPort?
    public var peer: HostPort?
    public var members: [String]?
    /// The cluster secret itself (prefer `secretFile`: the environment and flags leak into `ps`).
    public var secret: String?
    public var secretFile: String?
    /// N for cart and raw keys.
    public var replicas: Int?
    public var r: Int?
    public var w: Int?
    public var requestTimeoutMs: UInt64?
    /// How often the node starts an anti-entropy exchange of one partition.
    public var antiEntropyIntervalMs: UInt64?
    /// How often the node gossips its membership view to a random member (1…60000).
    public var gossipIntervalMs: UInt64?
    public var partitionBits: Int?
    public var memtableMB: Int?
    public var cacheMB: Int?
    /// trace, debug, info, notice, warning, error, critical.
    public var logLevel: String?
    /// text or json.
    public var logFormat: String?

    public init() {}

    /// This layer over `lower`: each field this layer leaves unset comes from `lower`.
    public func over(_ lower: ServerSettings) -> ServerSettings {
        var merged = self
        merged.nodeID = nodeID ?? lower.nodeID
        merged.data = data ?? lower.data
        merged.http = http ?? lower.http
        merged.peer = peer ?? lower.peer
        merged.members = members ?? lower.members
        // The secret is one setting given two ways: a layer that gives it either way replaces
        // both ways of the layers below.
        if secret == nil && secretFile == nil {
            merged.secret = lower.secret
            merged.secretFile = lower.secretFile
        }
        merged.replicas = replicas ?? lower.replicas
        merged.r = r ?? lower.r
        merged.w = w ?? lower.w
        merged.requestTimeoutMs = requestTimeoutMs ?? lower.requestTimeoutMs
        merged.antiEntropyIntervalMs = antiEntropyIntervalMs ?? lower.antiEntropyIntervalMs
        merged.gossipIntervalMs = gossipIntervalMs ?? lower.gossipIntervalMs
        merged.partitionBits = partitionBits ?? lower.partitionBits
        merged.memtableMB = memtableMB ?? lower.memtableMB
        merged.cacheMB = cacheMB ?? lower.cacheMB
        merged.logLevel = logLevel ?? lower.logLevel
        merged.logFormat = logFormat ?? lower.logFormat
        return merged
    }

    /// The environment layer: `CARTSTORE_NODE_ID`, `CARTSTORE_DATA`, `CARTSTORE_HTTP`,
    /// `CARTSTORE_PEER`, `CARTSTORE_MEMBERS` (comma-separated), `CARTSTORE_SECRET`,
    /// `CARTSTORE_SECRET_FILE`, `CARTSTORE_REPLICAS`, `CARTSTORE_R`, `CARTSTORE_W`,
    /// `CARTSTORE_REQUEST_TIMEOUT_MS`, `CARTSTORE_ANTI_ENTROPY_INTERVAL_MS`, `CARTSTORE_GOSSIP_INTERVAL_MS`,
    /// `CARTSTORE_PARTITION_BITS`, `CARTSTORE_MEMTABLE_MB`,
    /// `CARTSTORE_CACHE_MB`, `CARTSTORE_LOG_LEVEL`, `CARTSTORE_LOG_FORMAT`.
    public static func environment(_ environment: [String: String]) throws(ServerConfiguration.Invalid) -> ServerSettings {
        var layer = ServerSettings()
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        func number<T: FixedWidthInteger>(_ name: String) throws(ServerConfiguration.Invalid) -> T? {
            guard let text = value(name) else { return nil }
            guard let parsed = T(text) else { throw .setting(name, "\"\(text)\" is not a number") }
            return parsed
        }
        func address(_ name: String) throws(ServerConfiguration.Invalid) -> HostPort? {
            guard let text = value(name) else { return nil }
            guard let parsed = HostPort(parsing: text) else { throw .setting(name, "\"\(text)\" is not HOST:PORT") }
            return parsed
        }
        layer.nodeID = try number("CARTSTORE_NODE_ID")
        layer.data = value("CARTSTORE_DATA")
        layer.http = try address("CARTSTORE_HTTP")
        layer.peer = try address("CARTSTORE_PEER")
        layer.members = value("CARTSTORE_MEMBERS").map { $0.split(separator: ",").map { String($0) } }
        layer.secret = value("CARTSTORE_SECRET")
        layer.secretFile = value("CARTSTORE_SECRET_FILE")
        layer.replicas = try number("CARTSTORE_REPLICAS")
        layer.r = try number("CARTSTORE_R")
        layer.w = try number("CARTSTORE_W")
        layer.requestTimeoutMs = try number("CARTSTORE_REQUEST_TIMEOUT_MS")
        layer.antiEntropyIntervalMs = try number("CARTSTORE_ANTI_ENTROPY_INTERVAL_MS")
        layer.gossipIntervalMs = try number("CARTSTORE_GOSSIP_INTERVAL_MS")
        layer.partitionBits = try number("CARTSTORE_PARTITION_BITS")
        layer.memtableMB = try number("CARTSTORE_MEMTABLE_MB")
        layer.cacheMB = try number("CARTSTORE_CACHE_MB")
        layer.logLevel = value("CARTSTORE_LOG_LEVEL")
        layer.logFormat = value("CARTSTORE_LOG_FORMAT")
        return layer
    }
}
