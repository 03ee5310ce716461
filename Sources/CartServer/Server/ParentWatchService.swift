import Foundation
import Logging
import ServiceLifecycle

/// Shuts the node down gracefully when the process that started it exits (its parent changes):
/// for test harnesses and supervisors that must not leave servers behind if they crash
/// (`cartstore-server --exit-with-parent`). Polls `getppid()` twice a second.
struct ParentWatchService: Service {
    let logger: Logger

    func run() async throws {
        let parent = getppid()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(500))
            if getppid() != parent {
                logger.notice("the parent process exited: shutting down", metadata: ["parent": "\(parent)"])
                return
            }
        }
    }
}
