/// Background work: flushing the immutable memtable to an L0 segment, compactions (see
/// `EngineCore+Compaction`), interval WAL syncs and deleting obsolete files; and the manifest
/// writes that install their results.
///
/// One step (a flush or a compaction) runs at a time (`stepInProgress`): on the background
/// thread, or in manual mode on whichever caller needs it. A step holds the lock only to pick its
/// work and to install the result; its file I/O runs without it.
extension EngineCore {
    /// Background-thread wake-up when idle: bounds how long a file released by a scan waits for
    /// deletion, and the interval-sync latency.
    static let idleWakeNanoseconds: UInt64 = 1_000_000_000

    func backgroundLoop() {
        lock.lock()
        while true {
            if performBackgroundStep() { continue }
            if case .open = lifecycle {} else if case .failed = lifecycle {} else { break }
            syncWALIfDue()
            if directory.hasScheduledDeletions {
                lock.unlock()
                directory.deleteScheduled()
                lock.lock()
                continue
            }
            var wait = Self.idleWakeNanoseconds
            if case let .interval(ms) = options.sync { wait = min(wait, UInt64(ms) * 1_000_000) }
            lock.waitBackground(timeoutNanoseconds: wait)
        }
        lock.unlock()
    }

    /// Runs one flush or compaction if one is due and no other step is running (lock held;
    /// released during I/O). Returns whether it did one.
    func performBackgroundStep() -> Bool {
        lock.assertHeld()
        guard case .open = lifecycle, !stepInProgress else { return false }
        if imm != nil {
            stepInProgress = true
            flushImmutable()
        } else if let (plan, manual) = nextCompaction() {
            stepInProgress = true
            run(plan, manual: manual)
        } else {
            return false
        }
        releaseRetiredVersions()
        stepInProgress = false
        lock.broadcast() // stalled writers, flush(), compactAll() and close() re-check
        return true
    }

    /// Manual mode's driver entry point (see `StorageEngine.runBackgroundWork`).
    func runBackgroundWork(maxSteps: Int) throws(StorageError) -> Bool {
        guard options.backgroundMode == .manual else {
            throw .invalidArgument("runBackgroundWork needs StorageOptions.backgroundMode = .manual")
        }
        lock.lock()
        guard lifecycle.servesReads else { lock.unlock(); throw .closed }
        var steps = 0
        while steps < maxSteps && performBackgroundStep() { steps += 1 }
        syncWALIfDue()
        let more = imm != nil || nextCompactionIsDue()
        let refusal = lifecycle.writeRefusal
        lock.unlock()
        directory.deleteScheduled()
        if let refusal { throw refusal }
        return more
    }

    /// Waits (lock held) until `done` holds, running the background work itself in manual mode.
    /// Throws the engine's refusal if it fails or closes meanwhile.
    func waitUntil(_ done: () -> Bool) throws(StorageError) {
        lock.assertHeld()
        while true {
            if let refusal = backgroundRefusal() { throw refusal }
            if done() { return }
            if options.backgroundMode == .manual && !stepInProgress {
                if !performBackgroundStep() && !done() {
                    if let refusal = backgroundRefusal() { throw refusal }
                    assertionFailure("waiting for background work that no step can do")
                    return
                }
            } else {
                lock.signalBackground()
                lock.wait()
            }
        }
    }

    func flush() throws(StorageError) {
        try enqueue(PendingWrite(batch: WriteBatch(), forceFlush: true))
        try lock.withLock { () throws(StorageError) in try waitUntil { imm == nil } }
        directory.deleteScheduled()
    }

    func waitForBackgroundWork() throws(StorageError) {
        try lock.withLock { () throws(StorageError) in
            try waitUntil { imm == nil && manualCompaction == nil && !nextCompactionIsDue() && !stepInProgress }
        }
        directory.deleteScheduled()
    }

    func compactAll() throws(StorageError) {
        try flush()
        try lock.withLock { () throws(StorageError) in
            // One request at a time: a second caller waits for the first, then runs its own.
            try waitUntil { manualCompaction == nil }
            let id = nextManualCompactionID
            nextManualCompactionID += 1
            let deepest = version.levels.lastIndex { !$0.isEmpty } ?? 0
            manualCompaction = ManualCompaction(id: id, level: 0, bottom: max(1, deepest),
                                                pending: Set(version.levels[0].map(\.number)))
            lock.signalBackground()
            try waitUntil { manualCompaction?.id != id }
        }
        directory.deleteScheduled()
    }

    // MARK: - Flush

    /// Writes `imm` to a new L0 segment and installs it (lock held on entry and exit; released
    /// while writing the file and the manifest).
    func flushImmutable() {
        lock.assertHeld()
        guard let table = imm else { return }
        let walNumber = immWALNumber
        let number = allocateFileNumber()
        lock.unlock()
        let result = Result { () throws(StorageError) -> (meta: SegmentMeta, file: SegmentFile)? in
            guard let meta = try Self.writeSegment(from: table, number: number, directory: directory, options: options) else { return nil }
            let file = SegmentFile(meta: meta, tables: tables)
            if let e = file.verifyOpens(), e != .closed { logger.error("flushed segment \(FileNames.segment(number)) does not open: \(e)") }
            return (meta, file)
        }
        lock.lock()
        let made: (meta: SegmentMeta, file: SegmentFile)?
        switch result {
        case let .failure(error):
            // The segment file was abandoned: no edit names it.
            enterFailed("flushing the memtable of WAL \(FileNames.wal(walNumber))", error)
            return
        case let .success(m):
            made = m
        }
        var edit = VersionEdit()
        edit.deletedWALs = [walNumber]
        edit.lastSequence = table.sequenceLargest
        if let made { edit.addedSegments = [made.meta] }
        do {
            try logAndApply(edit, operation: "installing flushed segment \(FileNames.segment(number))")
        } catch {
            return // outcome unknown: the segment and the WAL are both kept
        }
        if let made { install(adding: [(0, made.file)], removing: []) }
        statistics.flushCount += 1
        statistics.bytesFlushed += made?.meta.fileSize ?? 0
        directory.scheduleDeletion(FileNames.wal(walNumber))
        // Listeners hear of the segment before `flush()` callers are released.
        notify(SegmentChange(reason: .flush, added: made.map { [$0.meta.info] } ?? [], removed: []))
        imm = nil
    }

    /// Writes every entry of `table` to segment `number`, synced, with its name durable. Nil if
    /// the table is empty. On failure the partial file is deleted (no edit names it).
    static func writeSegment(from table: Memtable, number: UInt64, directory: DataDirectory,
                             options: StorageOptions) throws(StorageError) -> SegmentMeta? {
        let it = MemtableIterator(table)
        it.seekToFirst()
        guard it.isValid else { return nil }
        let writer = try SegmentWriter(fileSystem: directory.fileSystem, path: directory.file(FileNames.segment(number)),
                                       options: options.segmentWriterOptions)
        do {
            while it.isValid {
                try writer.add(key: it.key[...], value: it.value)
                it.next()
            }
            let meta = try writer.finish(level: 0, fileNumber: number)
            try directory.fileSystem.syncDirectory(directory.path)
            return meta
        } catch {
            writer.abandon()
            throw error
        }
    }

    // MARK: - Manifest

    /// Commits `edit` to the manifest (lock held on entry and exit; released during the write).
    /// Manifest writers take turns through `manifestBusy`. On failure the engine enters the failed
    /// state and the error is thrown: the edit's outcome is unknown, so the caller keeps every
    /// file it names or drops and changes nothing in memory.
    func logAndApply(_ edit: VersionEdit, operation: String) throws(StorageError) {
        lock.assertHeld()
        while manifestBusy { lock.wait() }
        switch lifecycle {
        case let .failed(e): throw e
        case let .closing(failure): if let failure { throw failure }
        case .closed: throw .closed
        case .open: break
        }
        manifestBusy = true
        let rolloverNumber = manifest.needsRollover ? allocateFileNumber() : nil
        let next = nextFileNumber
        lock.unlock()
        var failure: StorageError?
        do {
            try manifest.append(edit, nextFileNumber: next, rolloverNumber: rolloverNumber)
        } catch {
            failure = error
        }
        lock.lock()
        manifestBusy = false
        lock.broadcast()
        if let failure { throw enterFailed(operation, failure) }
    }

    /// Replaces `version` with one that has `adding` and lacks `removing` (lock held). The new
    /// version must keep every level invariant (`Version.violation`).
    func install(adding: [(level: Int, file: SegmentFile)], removing: Set<UInt64>) {
        lock.assertHeld()
        var levels = version.levels.map { $0.filter { !removing.contains($0.number) } }
        for (level, file) in adding { levels[level].append(file) }
        levels[0].sort { $0.number > $1.number }
        for l in 1..<levels.count {
            levels[l].sort { InternalKey.compare($0.smallestKey[...], $1.smallestKey[...]) < 0 }
        }
        let next = Version(levels: levels)
        if let violation = next.violation() {
            preconditionFailure("installing a version that breaks an invariant: \(violation)")
        }
        retiredVersions.append(version)
        version = next
    }

    /// Releases the versions `install` replaced (lock held on entry and exit; released meanwhile).
    func releaseRetiredVersions() {
        lock.assertHeld()
        guard !retiredVersions.isEmpty else { return }
        var retired = retiredVersions
        retiredVersions = []
        lock.unlock()
        retired.removeAll() // the last references may go here, off the lock
        lock.lock()
    }

    /// Calls the listeners with the lock released.
    func notify(_ change: SegmentChange) {
        lock.assertHeld()
        let current = listeners
        guard !current.isEmpty else { return }
        lock.unlock()
        for l in current { l(change) }
        lock.lock()
    }

    // MARK: - Interval sync

    /// Syncs the WAL if the interval policy says it is due (lock held; released during the sync).
    func syncWALIfDue() {
        lock.assertHeld()
        guard case let .interval(ms) = options.sync, case .open = lifecycle, walDirty,
              monotonicNanoseconds() - walSyncedNanos >= UInt64(ms) * 1_000_000 else { return }
        let log = wal
        let mark = walAppends
        lock.unlock()
        let result = Result { () throws(StorageError) in try log.sync() }
        lock.lock()
        switch result {
        case let .failure(error):
            enterFailed("interval sync of WAL \(FileNames.wal(log.number))", error)
        case .success:
            statistics.walSyncs += 1
            walSyncedNanos = monotonicNanoseconds()
            if wal === log && walAppends == mark { walDirty = false }
        }
    }
}
