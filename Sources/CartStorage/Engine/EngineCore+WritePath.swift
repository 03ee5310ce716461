/// The write path: a queue of writers whose head (the leader) commits everything queued behind
/// it as one WAL record with one sync (group commit), then applies it to the memtable.
///
/// Outcome rule: if the WAL append or sync fails, the record may or may not be on disk; the
/// group's writers get `writesStopped`, the engine refuses further writes, and the next open's
/// replay decides. Nothing is applied to the memtable, so readers never see such a write.
extension EngineCore {
    /// Largest group the leader assembles, in encoded bytes (a single larger batch goes alone).
    static let groupBytesMax = 1 << 20

    func enqueue(_ w: PendingWrite) throws(StorageError) {
        lock.lock()
        if let refusal = lifecycle.writeRefusal { lock.unlock(); throw refusal }
        writers.append(w)
        while !w.done && writers.first !== w { lock.wait() }
        if w.done {
            lock.unlock()
            if let e = w.error { throw e }
            return
        }
        // This writer leads.
        if w.syncOnly { return try leadSync(w) }
        do throws(StorageError) {
            if let refusal = lifecycle.writeRefusal { throw refusal }
            try makeRoomForWrite(force: w.forceFlush)
        } catch {
            finish([w], error: error)
            lock.unlock()
            throw error
        }
        if w.forceFlush {
            finish([w], error: nil)
            lock.unlock()
            return
        }
        let group = collectGroup()
        var combined = WriteBatch()
        for g in group { combined.append(g.batch) }
        let first = lastSequence + 1
        let payload = combined.encode(firstSequence: first)
        let log = wal
        let table = mem
        let syncNow = shouldSyncNow()
        lock.unlock()

        var failure: StorageError?
        do {
            try log.addRecord(payload)
            if syncNow { try log.sync() }
            try table.insert(batchPayload: payload, file: log.path)
        } catch {
            failure = error
        }

        lock.lock()
        var groupError: StorageError?
        if let failure {
            groupError = enterFailed("writing WAL \(FileNames.wal(log.number))", failure)
        } else {
            // Only the leader advances sequences, so nothing moved since `first` was taken.
            precondition(lastSequence == first - 1, "sequence numbers must strictly increase")
            lastSequence = first + UInt64(combined.count) - 1
            statistics.writes += UInt64(group.count)
            statistics.writeGroups += 1
            statistics.bytesWrittenByUser += UInt64(combined.byteCount)
            walAppends += 1
            if syncNow {
                statistics.walSyncs += 1
                walSyncedNanos = monotonicNanoseconds()
                walDirty = false
            } else {
                walDirty = true
            }
        }
        finish(group, error: groupError)
        lock.unlock()
        if let groupError { throw groupError }
    }

    /// The queued writers the leader commits together (lock held; the leader is first).
    private func collectGroup() -> [PendingWrite] {
        lock.assertHeld()
        var group: [PendingWrite] = []
        var bytes = 0
        for w in writers {
            if w.forceFlush || w.syncOnly { break }
            if !group.isEmpty && bytes + w.batch.byteCount > Self.groupBytesMax { break }
            group.append(w)
            bytes += w.batch.byteCount
        }
        return group
    }

    /// A `syncWAL()` request at the head of the queue (lock held on entry, released on return):
    /// fdatasyncs the current WAL if a write since its last sync left it dirty. Writers queued
    /// behind wait, so no append races the sync. A failed sync has the same outcome rule as a
    /// failed append: writes stop, every file is kept.
    private func leadSync(_ w: PendingWrite) throws(StorageError) {
        lock.assertHeld()
        if let refusal = lifecycle.writeRefusal {
            finish([w], error: refusal)
            lock.unlock()
            throw refusal
        }
        guard walDirty else {
            finish([w], error: nil)
            lock.unlock()
            return
        }
        let log = wal
        lock.unlock()
        var failure: StorageError?
        do { try log.sync() } catch { failure = error }
        lock.lock()
        var syncError: StorageError?
        if let failure {
            syncError = enterFailed("syncing WAL \(FileNames.wal(log.number))", failure)
        } else {
            statistics.walSyncs += 1
            walSyncedNanos = monotonicNanoseconds()
            walDirty = false
        }
        finish([w], error: syncError)
        lock.unlock()
        if let syncError { throw syncError }
    }

    private func shouldSyncNow() -> Bool {
        switch options.sync {
        case .always: return true
        case .none: return false
        case let .interval(ms): return monotonicNanoseconds() - walSyncedNanos >= UInt64(ms) * 1_000_000
        }
    }

    /// Removes the first `group.count` writers, marks them done and wakes everyone (lock held).
    private func finish(_ group: [PendingWrite], error: StorageError?) {
        lock.assertHeld()
        for w in group {
            w.done = true
            w.error = error
        }
        writers.removeFirst(group.count)
        lock.broadcast()
    }

    /// Ensures the memtable has room (lock held, by the leader): switches to a fresh memtable and
    /// WAL when it is full (or `force`), stalling while the previous immutable memtable is still
    /// flushing or L0 is full (in manual mode, running that background work itself).
    func makeRoomForWrite(force: Bool) throws(StorageError) {
        lock.assertHeld()
        var stallStart: UInt64? = nil
        defer {
            if let s = stallStart { statistics.stallNanoseconds += monotonicNanoseconds() - s }
        }
        while true {
            if let refusal = lifecycle.writeRefusal { throw refusal }
            let l0Full = version.levels[0].count >= options.level0StopWritesTrigger && options.compactionEnabled
            if !force && !l0Full && mem.approximateBytes < options.memtableBytes { return }
            if force && mem.isEmpty { return }
            if imm != nil || l0Full {
                if stallStart == nil {
                    stallStart = monotonicNanoseconds()
                    statistics.stallCount += 1
                    let reason = l0Full ? "\(version.levels[0].count) L0 segments waiting for compaction"
                                        : "memtable full while the previous one is still flushing"
                    logger.info("write stall: \(reason)", metadata: ["directory": "\(directory.path)"])
                }
                if options.backgroundMode == .manual && !stepInProgress {
                    if !performBackgroundStep() {
                        // Unreachable: a pending memtable can always be flushed, and a full L0
                        // always scores a compaction. Stop stalling rather than spin.
                        assertionFailure("write stall with no background work to run")
                        return
                    }
                } else {
                    lock.signalBackground()
                    lock.wait()
                }
                continue
            }
            try switchMemtable()
            if force { return }
        }
    }

    /// Starts a new WAL and makes the current memtable immutable for the flush (lock held, by
    /// the leader, with no immutable memtable pending; released during the file operations).
    ///
    /// Order: the old WAL is synced first when the policy has not already done it (recovery
    /// reads every WAL but the newest strictly, so an older one must be whole), then the new
    /// WAL is created and its name made durable, then a manifest edit makes it live. A failure
    /// stops writes and keeps every file.
    private func switchMemtable() throws(StorageError) {
        lock.assertHeld()
        precondition(imm == nil, "a memtable switch needs the previous immutable memtable flushed")
        let number = allocateFileNumber()
        let name = FileNames.wal(number)
        let old = wal
        let syncOld = options.sync != .always && walDirty
        lock.unlock()
        var failure: (operation: String, error: StorageError)?
        var file: (any WritableFile)?
        do {
            if syncOld { try old.sync() }
        } catch {
            failure = ("syncing WAL \(FileNames.wal(old.number)) before switching", error)
        }
        if failure == nil {
            do {
                file = try directory.fileSystem.createFile(directory.file(name))
                try directory.fileSystem.syncDirectory(directory.path)
            } catch {
                failure = ("creating WAL \(name)", error)
            }
        }
        lock.lock()
        if let failure {
            file?.close()
            throw enterFailed(failure.operation, failure.error)
        }
        var edit = VersionEdit()
        edit.addedWALs = [number]
        do {
            try logAndApply(edit, operation: "recording WAL \(name) in the manifest")
        } catch {
            file?.close()
            throw error
        }
        imm = mem
        immWALNumber = old.number
        mem = Memtable()
        wal = LogWriter(file: file!, number: number)
        walDirty = false
        walAppends = 0
        lock.signalBackground()
        // The old WAL is complete (and durable if the policy needs it); close it off the lock.
        lock.unlock()
        try? old.close(sync: false)
        lock.lock()
    }
}
