/// A writer waiting in the engine's queue; the leader completes it. Guarded by the engine lock.
final class PendingWrite {
    let batch: WriteBatch
    /// A `flush()` request: make the memtable immutable instead of writing.
    let forceFlush: Bool
    var done = false
    var error: StorageError?

    init(batch: WriteBatch, forceFlush: Bool) {
        self.batch = batch
        self.forceFlush = forceFlush
    }
}
