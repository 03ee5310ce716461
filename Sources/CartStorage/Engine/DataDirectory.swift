import Logging
import Synchronization

/// The engine's data directory as seen by everything that can outlive one call (segment files,
/// scans, the table cache): the file system, the path, whether the engine is closed, and the
/// files whose deletion is due.
///
/// Deletion is deferred: an object that lets go of the last reference to an obsolete file (a
/// `SegmentFile` deinit, which may run while the engine lock is held) only schedules it here; the
/// background loop, `runBackgroundWork`, a finished scan and `close` delete scheduled files
/// without holding the engine lock. Once the engine is closed nothing more is deleted: a file
/// released after that is an orphan the next open removes, never a file another engine (which
/// may own the directory by then) could need.
///
/// Thread safety: every method may be called from any thread.
final class DataDirectory: Sendable {
    let fileSystem: any FileSystem
    let path: String
    let logger: Logger
    private let closedFlag = Atomic(false)
    private let deletions = Mutex<(names: [String], finished: Bool)>(([], false))

    init(fileSystem: any FileSystem, path: String, logger: Logger) {
        self.fileSystem = fileSystem
        self.path = path
        self.logger = logger
    }

    /// The full path of `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// True once `close` has begun: scans and lazily opened segments then report `.closed`.
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    func markClosed() { closedFlag.store(true, ordering: .releasing) }

    /// Schedules the deletion of `name` (whose outcome is known: no live manifest state names it).
    func scheduleDeletion(_ name: String) {
        deletions.withLock { d in if !d.finished { d.names.append(name) } }
    }

    var hasScheduledDeletions: Bool { deletions.withLock { !$0.names.isEmpty } }

    /// Deletes every scheduled file. A failure is logged and the file left for the next open.
    func deleteScheduled() {
        deletions.withLock { d in
            for name in d.names {
                do { try fileSystem.removeFile(file(name)) } catch {
                    logger.warning("could not delete obsolete file \(name) (the next open deletes it): \(error)")
                }
            }
            d.names = []
        }
    }

    /// Deletes what is scheduled, then stops deleting for good (the engine is closing).
    func finish() {
        deleteScheduled()
        deletions.withLock { $0.finished = true }
    }
}
