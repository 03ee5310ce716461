import ArgumentParser
import Foundation

/// The options every `cartstore` command takes: which node to talk to and whether to print
/// the server's JSON instead of tables.
struct NodeOptions: ParsableArguments {
    /// The node used when neither `--node` nor `CARTSTORE_NODE` names one.
    static let defaultNode = "127.0.0.1:8080"

    @Option(
        name: .customLong("node"),
        help: ArgumentHelp(
            "The node's HTTP address.",
            discussion: "Defaults to the CARTSTORE_NODE environment variable, else \(NodeOptions.defaultNode).",
            valueName: "host:port"
        )
    )
    var nodeArgument: String?

    @Flag(name: .customLong("json"), help: "Print the server's JSON response body (pretty-printed) instead of tables.")
    var json = false

    /// The node to talk to: `--node`, else `CARTSTORE_NODE`, else ``defaultNode``.
    var node: String {
        if let nodeArgument { return nodeArgument }
        if let fromEnvironment = ProcessInfo.processInfo.environment["CARTSTORE_NODE"],
           !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultNode
    }

    /// The base URL of ``node``: `http://host:port`, or the node as given when it already
    /// names a scheme (`http://` or `https://`); never with a trailing slash.
    var baseURL: String {
        var base = node
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("http://") || base.hasPrefix("https://") { return base }
        return "http://" + base
    }

    func validate() throws {
        let trimmed = node.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed != node {
            throw ValidationError("--node must be host:port (got '\(node)').")
        }
        if node.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) {
            throw ValidationError("--node must be host:port (got '\(node)').")
        }
    }
}
