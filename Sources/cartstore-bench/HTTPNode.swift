import NIOCore

/// One node of `--nodes HOST:PORT,...`: where its HTTP API listens.
struct HTTPNode: Sendable, CustomStringConvertible {
    let host: String
    let port: Int
    /// Resolved once, before any connection (see `resolve()`).
    let address: SocketAddress

    /// The `Host` header of every request to this node.
    var hostHeader: String { description }

    /// `HOST:PORT` (an IPv6 host in brackets).
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Splits `HOST:PORT,HOST:PORT,...` (IPv6 hosts in brackets: `[::1]:8080`) without
    /// resolving anything; nil if an entry is malformed.
    static func parseList(_ text: String) -> [(host: String, port: Int)]? {
        var result: [(host: String, port: Int)] = []
        for entry in text.split(separator: ",") {
            let item = entry.trimmingSpaces
            guard let colon = item.lastIndex(of: ":") else { return nil }
            var host = String(item[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
                host = String(host.dropFirst().dropLast())
            }
            guard !host.isEmpty, let port = Int(item[item.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            result.append((host, port))
        }
        return result.isEmpty ? nil : result
    }

    /// Resolves every entry of `parseList` (numeric addresses directly, names once through the
    /// system resolver).
    static func resolve(_ text: String) throws -> [HTTPNode] {
        guard let list = parseList(text) else { throw HTTPBenchError.invalidNodes(text) }
        return try list.map { entry in
            let (host, port) = entry
            let address: SocketAddress
            if let numeric = try? SocketAddress(ipAddress: host, port: port) {
                address = numeric
            } else {
                do {
                    address = try SocketAddress.makeAddressResolvingHost(host, port: port)
                } catch {
                    throw HTTPBenchError.unresolvable(host: host, reason: "\(error)")
                }
            }
            return HTTPNode(host: host, port: port, address: address)
        }
    }
}
