import CartCluster
import CartServer
import Testing

/// Settings precedence (flags over environment over file over defaults) and refusals.
@Suite("Server configuration")
struct ServerConfigurationTests {
    @Test("no settings: a one-node cluster in ./cartstore-data on 127.0.0.1:8080")
    func defaults() throws {
        let configuration = try ServerConfiguration.resolve(ServerSettings())
        #expect(configuration.node == NodeID(1) && configuration.dataDirectory == "./cartstore-data")
        #expect(configuration.http == HostPort(host: "127.0.0.1", port: 8080) && configuration.members.count == 1)
        #expect(configuration.protocolConfiguration.namespaces.first?.n == 1, "N is capped by the cluster's size")
        #expect(configuration.secret.count >= ServerConfiguration.secretBytesMin)
    }

    @Test("flags over environment over file")
    func precedence() throws {
        var file = ServerSettings()
        file.nodeID = 3
        file.data = "/file"
        file.cacheMB = 8
        let environment = try ServerSettings.environment(["CARTSTORE_DATA": "/env", "CARTSTORE_CACHE_MB": "16"])
        var flags = ServerSettings()
        flags.cacheMB = 32
        let resolved = try ServerConfiguration.resolve(flags.over(environment).over(file))
        #expect(resolved.node == NodeID(3) && resolved.dataDirectory == "/env" && resolved.cacheBytes == 32 << 20)
    }

    @Test("the secret is one setting: a higher layer's file replaces a lower layer's text, and the other way round")
    func secretPrecedence() throws {
        var file = ServerSettings()
        file.secret = String(repeating: "f", count: 32)
        var environment = ServerSettings()
        environment.secretFile = "/nonexistent/secret"
        let merged = environment.over(file)
        #expect(merged.secret == nil && merged.secretFile == "/nonexistent/secret")
        var flags = ServerSettings()
        flags.secret = String(repeating: "x", count: 32)
        let top = flags.over(merged)
        #expect(top.secret == flags.secret && top.secretFile == nil)
    }

    @Test("a cluster needs a secret, names this node, and takes sane numbers")
    func refusals() throws {
        var layer = ServerSettings()
        layer.members = ["1=127.0.0.1:1/127.0.0.1:2", "2=127.0.0.1:3/127.0.0.1:4"]
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(layer) }
        layer.secret = "short"
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(layer) }
        layer.secret = String(repeating: "s", count: 32)
        let two = try ServerConfiguration.resolve(layer)
        #expect(two.members.count == 2 && two.protocolConfiguration.defaultW == 2)
        layer.nodeID = 9
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(layer) }
        layer.nodeID = 1
        layer.members = ["1=127.0.0.1:1"]
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(layer) }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerSettings.environment(["CARTSTORE_NODE_ID": "abc"]) }
        #expect(Member(parsing: "2=127.0.0.1:8702/127.0.0.1:7702") == Member(node: 2, http: HostPort(host: "127.0.0.1", port: 8702),
                                                                             peer: HostPort(host: "127.0.0.1", port: 7702)))
    }
}
