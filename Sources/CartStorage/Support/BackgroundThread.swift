#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated OS thread for the engine's background work (flushes, compactions, interval
/// syncs), joined on close. Storage I/O blocks, so it stays off Swift's cooperative pool.
final class BackgroundThread: @unchecked Sendable {
    private var thread: pthread_t?
    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    init(name: String, _ body: @escaping @Sendable () -> Void) throws(StorageError) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw .io(operation: "pthread_create", path: name, errno: rc)
        }
        thread = t
    }

    /// Waits for the thread to finish. Idempotent. Called from the thread itself (an engine
    /// released by its own listener), it detaches instead: a thread cannot wait for itself.
    func join() {
        guard let t = thread else { return }
        thread = nil
        if pthread_equal(t, pthread_self()) != 0 {
            pthread_detach(t)
        } else {
            pthread_join(t, nil)
        }
    }
}
