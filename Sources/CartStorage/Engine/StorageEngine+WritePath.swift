/// The write path: a queue of writers whose head (the leader) commits everything queued behind
/// it as one WAL record with one sync (group commit), then applies it to the memtable.
extension StorageEngine {
    /// Largest group the leader assembles, in encoded bytes (a single larger batch goes alone).
    static let groupBytesMax = 1 << 20

    func enqueue(_ w: PendingWrite) throws(StorageError) {
        lock.lock()
        if closed || closing { lock.unlock(); throw .closed }
        writers.append(w)
        while !w.done && writers.first !== w { lock.wait() }
        if w.done {
            lock.unlock()
            if let e = w.error { throw e }
            return
        }
        // This writer leads.
        do {
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
        if let failure {
            // The WAL may now end in a partial record: stop accepting writes until reopen.
            backgroundError = backgroundError ?? failure
        } else {
            lastSequence = first + UInt64(combined.count) - 1
            statistics.writes += UInt64(group.count)
            statistics.writeGroups += 1
            statistics.bytesWrittenByUser += UInt64(combined.byteCount)
            if syncNow {
                statistics.walSyncs += 1
                walSyncedNanos = monotonicNanoseconds()
                walDirty = false
            } else {
                walDirty = true
            }
        }
        finish(group, error: failure)
        lock.unlock()
        if let failure { throw failure }
    }

    /// The queued writers the leader commits together (lock held; the leader is first).
    private func collectGroup() -> [PendingWrite] {
        var group: [PendingWrite] = []
        var bytes = 0
        for w in writers {
            if w.forceFlush { break }
            if !group.isEmpty && bytes + w.batch.byteCount > Self.groupBytesMax { break }
            group.append(w)
            bytes += w.batch.byteCount
        }
        return group
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
        for w in group {
            w.done = true
            w.error = error
        }
        writers.removeFirst(group.count)
        lock.broadcast()
    }

    /// Ensures the memtable has room (lock held): switches to a fresh memtable and WAL when it
    /// is full (or `force`), stalling while the previous immutable memtable is still flushing.
    func makeRoomForWrite(force: Bool) throws(StorageError) {
        var stallStart: UInt64? = nil
        defer {
            if let s = stallStart { statistics.stallNanoseconds += monotonicNanoseconds() - s }
        }
        while true {
            if let e = backgroundError { throw .backgroundFailure(e.description) }
            // A writer stalled at close gives up rather than wait for work that will not run.
            if closed || closing { throw .closed }
            let l0Full = version.levels[0].count >= options.level0StopWritesTrigger && options.compactionEnabled
            if !force && !l0Full && mem.approximateBytes < options.memtableBytes { return }
            if force && mem.isEmpty { return }
            if imm != nil || l0Full {
                if stallStart == nil {
                    stallStart = monotonicNanoseconds()
                    statistics.stallCount += 1
                    let reason = l0Full ? "\(version.levels[0].count) L0 segments waiting for compaction"
                                        : "memtable full while the previous one is still flushing"
                    logger.info("write stall: \(reason)", metadata: ["directory": "\(directory)"])
                }
                lock.signalBackground()
                lock.wait()
                continue
            }
            try switchMemtable()
            if force { return }
        }
    }

    /// Starts a new WAL (recorded in the manifest before any write goes to it) and makes the
    /// current memtable immutable for the background flush (lock held).
    private func switchMemtable() throws(StorageError) {
        let number = manifest.allocateFileNumber()
        let path = path(FileNames.wal(number))
        let file = try PosixFile.create(path)
        do {
            try FileSystem.syncDirectory(directory)
            var edit = VersionEdit()
            edit.addedWALs = [number]
            try manifest.append(edit)
        } catch {
            try? file.close()
            try? FileSystem.remove(path)
            backgroundError = backgroundError ?? error
            throw error
        }
        let old = wal
        do {
            if options.sync != .always && walDirty { try old.sync() }
            try old.close()
        } catch {
            logger.warning("closing WAL \(old.path) failed: \(error)")
        }
        imm = mem
        immWALNumber = old.number
        mem = Memtable()
        wal = LogWriter(file: file, number: number)
        walDirty = false
        lock.signalBackground()
    }
}
