import Logging
import ServiceLifecycle

/// The first service to hear of a graceful shutdown (services stop in reverse order): turns
/// `/ready` to 503 so that load balancers stop sending while the HTTP server drains.
struct ReadinessService: Service {
    let ready: ServingState
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        ready.set(false)
        logger.notice("shutting down: no longer ready")
    }
}
