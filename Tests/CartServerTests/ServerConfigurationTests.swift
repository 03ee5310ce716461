import CartCluster
import CartServer
import Foundation
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

    @Test("the gossip interval: flag over environment over file over the default 1000; 0 and over a minute refused")
    func gossipInterval() throws {
        #expect(try ServerConfiguration.resolve(ServerSettings()).protocolConfiguration.gossipIntervalMs == 1_000)
        var file = ServerSettings()
        file.gossipIntervalMs = 300
        #expect(try ServerConfiguration.resolve(file).protocolConfiguration.gossipIntervalMs == 300)
        let environment = try ServerSettings.environment(["CARTSTORE_GOSSIP_INTERVAL_MS": "200"])
        #expect(try ServerConfiguration.resolve(environment.over(file)).protocolConfiguration.gossipIntervalMs == 200)
        var flags = ServerSettings()
        flags.gossipIntervalMs = 100
        #expect(try ServerConfiguration.resolve(flags.over(environment).over(file)).protocolConfiguration.gossipIntervalMs == 100)
        let json = try JSONDecoder().decode(ServerSettings.self, from: Data(#"{"gossipIntervalMs": 250}"#.utf8))
        #expect(json.gossipIntervalMs == 250)

        for bad: UInt64 in [0, ServerConfiguration.gossipIntervalMsMax + 1, .max] {
            var layer = ServerSettings()
            layer.gossipIntervalMs = bad
            #expect(throws: ServerConfiguration.Invalid.self, "gossipIntervalMs \(bad)") { try ServerConfiguration.resolve(layer) }
            do {
                _ = try ServerConfiguration.resolve(layer)
            } catch {
                #expect(error.description.hasPrefix("gossipIntervalMs:"), "\(error)")
            }
        }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerSettings.environment(["CARTSTORE_GOSSIP_INTERVAL_MS": "-5"]) }
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerSettings.environment(["CARTSTORE_GOSSIP_INTERVAL_MS": "soon"]) }
    }

    @Test("timeouts and intervals that timer arithmetic could overflow are refused, naming the setting")
    func overflowingDurationsAreRefused() throws {
        var timeout = ServerSettings()
        timeout.requestTimeoutMs = .max
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(timeout) }
        timeout.requestTimeoutMs = 0
        #expect(throws: ServerConfiguration.Invalid.self) { try ServerConfiguration.resolve(timeout) }
        timeout.requestTimeoutMs = 60_000
        #expect(try ServerConfiguration.resolve(timeout).protocolConfiguration.requestTimeoutMs == 60_000)
        var interval = ServerSettings()
        interval.antiEntropyIntervalMs = .max
        do {
            _ = try ServerConfiguration.resolve(interval)
            Issue.record("an anti-entropy interval of UInt64.max was taken")
        } catch {
            #expect(error.description.hasPrefix("antiEntropyIntervalMs:"), "\(error)")
        }
    }

    @Test("the node gossips its member-list peer address, not its listen address")
    func advertisedAddress() throws {
        var layer = ServerSettings()
        layer.nodeID = 2
        layer.secret = String(repeating: "s", count: 32)
        layer.members = ["1=127.0.0.1:8701/10.0.0.1:7701", "2=127.0.0.1:8702/10.0.0.2:7702"]
        layer.peer = HostPort(host: "0.0.0.0", port: 7702)
        let resolved = try ServerConfiguration.resolve(layer)
        #expect(resolved.peer == HostPort(host: "0.0.0.0", port: 7702))
        #expect(resolved.protocolConfiguration.address == "10.0.0.2:7702")
        #expect(try ServerConfiguration.resolve(ServerSettings()).protocolConfiguration.address == "127.0.0.1:7070")
        layer.members = ["1=127.0.0.1:8701/10.0.0.1:7701", "2=127.0.0.1:8702/\(String(repeating: "h", count: 300)):7702"]
        #expect(throws: ServerConfiguration.Invalid.self, "an address over 256 bytes") { try ServerConfiguration.resolve(layer) }
    }
}
