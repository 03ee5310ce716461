/// A writer waiting in the engine's queue; the leader completes it. Guarded by the engine lock.
final class PendingWrite {
    let batch: WriteBatch
    /// A `flush()` request: make the memtable immutable instead of writing.
    let forceFlush: Bool
    /// A `syncWAL()` request: make every earlier write durable instead of writing.
    let syncOnly: Bool
    var done = false
    var error: StorageError?

    init(batch: WriteBatch, forceFlush: Bool, syncOnly: Bool = false) {
        precondition(!(forceFlush && syncOnly), "a pending write is a write, a flush or a sync")
        self.batch = batch
        self.forceFlush = forceFlush
        self.syncOnly = syncOnly
    }
}
