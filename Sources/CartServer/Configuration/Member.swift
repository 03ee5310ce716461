import CartCluster

/// One node of the cluster as every node's configuration names it: its id and the two
/// addresses it listens on (HTTP for clients, peer for the internode transport).
///
/// Written `ID=HTTP_HOST:PORT/PEER_HOST:PORT`, e.g. `2=127.0.0.1:8702/127.0.0.1:7702`.
public struct Member: Hashable, Sendable, Codable, CustomStringConvertible {
    public var node: UInt64
    public var http: HostPort
    public var peer: HostPort

    public init(node: UInt64, http: HostPort, peer: HostPort) {
        self.node = node
        self.http = http
        self.peer = peer
    }

    public var id: NodeID { NodeID(node) }

    /// Parses `ID=HTTP/PEER`; nil if malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let node = UInt64(parts[0]), node > 0 else { return nil }
        let addresses = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard addresses.count == 2, let http = HostPort(parsing: String(addresses[0])),
              let peer = HostPort(parsing: String(addresses[1])) else { return nil }
        self.init(node: node, http: http, peer: peer)
    }

    public var description: String { "\(node)=\(http)/\(peer)" }
}

/// A host and a TCP port, written `HOST:PORT`.
public struct HostPort: Hashable, Sendable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (port 0…65535); nil if malformed.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        self.init(host: host, port: port)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = HostPort(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected HOST:PORT, got \"\(text)\""))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String { "\(host):\(port)" }
}
