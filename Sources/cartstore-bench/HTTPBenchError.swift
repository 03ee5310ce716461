/// What stops `cartstore-bench http`; printed by ArgumentParser as `Error: …`.
enum HTTPBenchError: Error, CustomStringConvertible {
    case invalidNodes(String)
    case unresolvable(host: String, reason: String)
    case eventLoop(String)

    var description: String {
        switch self {
        case let .invalidNodes(text):
            return "--nodes must be HOST:PORT[,HOST:PORT...] with ports 1...65535 (got '\(text)')"
        case let .unresolvable(host, reason):
            return "cannot resolve \(host): \(reason)"
        case let .eventLoop(reason):
            return "event loop failure: \(reason)"
        }
    }
}
