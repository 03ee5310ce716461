import CartStorage
import Logging
import ServiceLifecycle

/// The node's part of the service group: it holds the runtime, transport and engine open until
/// graceful shutdown, then (after the HTTP server finished its requests: services stop in
/// reverse order) drains the node, stops the transport and closes the engine.
struct NodeService: Service {
    let runtime: NodeRuntime
    let transport: PeerTransport
    let engine: StorageEngine
    let drainMs: UInt64
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await runtime.drain(timeoutMs: drainMs)
        runtime.stop()
        await transport.stop()
        do {
            try engine.close()
            logger.notice("stopped", metadata: ["snapshot": "\(runtime.snapshot.statistics.clientRequests) client requests"])
        } catch {
            logger.error("engine close failed", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
