import CartCluster
import CartStorage
import CartTestSupport
import CartVersioning
import Foundation
import Logging

/// Real `cartstore-server` processes on 127.0.0.1 with ephemeral ports, data under a temporary
/// directory: started, killed, terminated and restarted by tests, and always stopped (`stopAll`,
/// also from `deinit`).
///
/// Used by one test task at a time (not `Sendable`).
final class ServerCluster {
    struct Node {
        let id: Int
        let http: Int
        let peer: Int
        let directory: String
        var process: Process?
        var secretFile: String
        var data: String { directory + "/data" }
        var log: String { directory + "/server.log" }
    }

    let root: String
    private(set) var nodes: [Node] = []
    let client = TestHTTPClient()

    init(nodes count: Int) throws {
        root = NSTemporaryDirectory() + "cartstore-server-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let secret = root + "/secret"
        try Data((0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined().utf8).write(to: URL(fileURLWithPath: secret))
        let ports = try FreePorts.allocate(2 * count)
        for index in 0..<count {
            let directory = root + "/node-\(index + 1)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            nodes.append(Node(id: index + 1, http: ports[2 * index], peer: ports[2 * index + 1], directory: directory, secretFile: secret))
        }
    }

    deinit {
        stopAll(signal: SIGKILL)
        try? FileManager.default.removeItem(atPath: root)
    }

    func url(_ node: Int, _ path: String) -> String { "http://127.0.0.1:\(nodes[node - 1].http)\(path)" }

    /// Starts node `id` (1-based) with the cluster's members.
    func start(_ id: Int, extraArguments: [String] = []) throws {
        let node = nodes[id - 1]
        precondition(node.process == nil || !(node.process!.isRunning), "node \(id) is running")
        var arguments = ["--node-id", "\(id)", "--data", node.data, "--http", "127.0.0.1:\(node.http)",
                         "--peer", "127.0.0.1:\(node.peer)", "--secret-file", node.secretFile, "--log-level", "info",
                         "--exit-with-parent"]
        for member in nodes {
            arguments += ["--member", "\(member.id)=127.0.0.1:\(member.http)/127.0.0.1:\(member.peer)"]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("cartstore-server"))
        process.arguments = arguments + extraArguments
        if !FileManager.default.fileExists(atPath: node.log) { _ = FileManager.default.createFile(atPath: node.log, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: node.log))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        nodes[id - 1].process = process
    }

    /// Gives node `id` its own secret file with other bytes (for the wrong-secret test).
    func useWrongSecret(_ id: Int) throws {
        let path = nodes[id - 1].directory + "/wrong-secret"
        try Data(String(repeating: "f", count: 64).utf8).write(to: URL(fileURLWithPath: path))
        nodes[id - 1].secretFile = path
    }

    func startAll() async throws {
        for node in nodes { try start(node.id) }
        for node in nodes { try await waitReady(node.id) }
    }

    /// Waits until node `id` answers `/ready` with 200.
    func waitReady(_ id: Int, timeoutSeconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let response = try? await client.send("GET", url(id, "/ready")), response.status == 200 { return }
            guard nodes[id - 1].process?.isRunning == true else { throw Failure("node \(id) exited while starting:\n\(tail(id))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("node \(id) not ready after \(timeoutSeconds) s:\n\(tail(id))")
    }

    /// SIGKILL: no shutdown of any kind.
    func kill(_ id: Int) {
        guard let process = nodes[id - 1].process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait; returns the exit status.
    func terminate(_ id: Int, timeoutSeconds: Double = 30) throws -> Int32 {
        guard let process = nodes[id - 1].process, process.isRunning else { throw Failure("node \(id) is not running") }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure("node \(id) did not exit within \(timeoutSeconds) s of SIGTERM:\n\(tail(id))")
        }
        return process.terminationStatus
    }

    /// Stops every running node (SIGTERM, then SIGKILL after 15 s, or at once with `SIGKILL`).
    func stopAll(signal: Int32 = SIGTERM) {
        let processes = nodes.compactMap(\.process).filter(\.isRunning)
        for process in processes { Foundation.kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(15)
        for process in processes {
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                Foundation.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// The last lines of node `id`'s log.
    func tail(_ id: Int, lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: nodes[id - 1].log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func logText(_ id: Int) -> String { (try? String(contentsOfFile: nodes[id - 1].log, encoding: .utf8)) ?? "" }

    /// The cart record node `id` holds for `user`, read from its data directory (the node must
    /// be stopped): what this replica has, not what a quorum read would merge.
    func replicaCart(_ id: Int, user: String) throws -> [String: Int64] {
        var options = StorageOptions()
        options.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let engine = try StorageEngine.open(nodes[id - 1].data, options: options)
        defer { try? engine.close() }
        let store = try ReplicaStore(engine: engine)
        guard let record = try store.read(Array("cart:\(user)".utf8)) else { return [:] }
        guard case let .cart(state) = record else { throw Failure("cart:\(user) on node \(id) is not a cart") }
        return Dictionary(uniqueKeysWithValues: state.view.items.map { ($0.sku, $0.quantity) })
    }

    /// Runs the `cartstore` CLI to its exit (it bounds its own requests to 10 s; killed at 30 s).
    /// Polls `condition` every 100 ms until it is true; throws after `seconds`.
    static func waitUntil(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure("\(what): not within \(seconds) s")
    }

    static func runCLI(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("cartstore"))
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        let outText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, outText, errText)
    }

    /// A test failure with a message.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
