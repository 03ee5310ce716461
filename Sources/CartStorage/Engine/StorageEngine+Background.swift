/// Background work: flushing the immutable memtable to an L0 segment and interval WAL syncs.
extension StorageEngine {
    func backgroundLoop() {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if imm != nil && backgroundError == nil {
                flushImmutable()
                continue
            }
            if closing { return }
            if compactIfNeeded() {
                lock.broadcast() // stalled writers and waitForBackgroundWork re-check
                continue
            }
            if case let .interval(ms) = options.sync {
                if walDirty && monotonicNanoseconds() - walSyncedNanos >= UInt64(ms) * 1_000_000 {
                    // Under the lock: the leader cannot close this WAL meanwhile.
                    do {
                        try wal.sync()
                        walDirty = false
                        walSyncedNanos = monotonicNanoseconds()
                        statistics.walSyncs += 1
                    } catch {
                        backgroundError = backgroundError ?? error
                    }
                }
                lock.waitBackground(timeoutNanoseconds: UInt64(ms) * 1_000_000)
            } else {
                lock.waitBackground()
            }
        }
    }

    /// Writes `imm` to a new L0 segment and installs it (lock held on entry and exit; released
    /// while writing the file).
    func flushImmutable() {
        guard let table = imm else { return }
        let walNumber = immWALNumber
        let number = manifest.allocateFileNumber()
        lock.unlock()
        let result = Result { () throws(StorageError) -> SegmentMeta? in
            try Self.writeSegment(from: table, number: number, directory: directory, options: options)
        }
        lock.lock()
        do {
            let meta = try result.get()
            var edit = VersionEdit()
            edit.deletedWALs = [walNumber]
            edit.lastSequence = max(table.sequenceLargest, manifest.state.lastSequence)
            var added: [SegmentHandle] = []
            if let meta {
                edit.addedSegments = [meta]
                let handle = SegmentHandle(meta: meta, tables: tables)
                if let e = handle.verifyOpens() { logger.error("flushed segment \(FileNames.segment(meta.fileNumber)) does not open: \(e)") }
                added = [handle]
            }
            try manifest.append(edit)
            install(adding: added, removing: [])
            imm = nil
            statistics.flushCount += 1
            statistics.bytesFlushed += meta?.fileSize ?? 0
            try? FileSystem.remove(path(FileNames.wal(walNumber)))
            let change = SegmentChange(reason: .flush, added: added.map { $0.meta.info }, removed: [])
            notify(change)
        } catch {
            logger.error("flush of memtable (WAL \(walNumber)) failed: \(error)")
            try? FileSystem.remove(path(FileNames.segment(number)))
            backgroundError = backgroundError ?? error
        }
        lock.broadcast()
    }

    /// Replaces `version` with one that has `adding` and lacks `removing` (lock held).
    func install(adding: [SegmentHandle], removing: Set<UInt64>) {
        var levels = version.levels.map { $0.filter { !removing.contains($0.meta.fileNumber) } }
        for h in adding { levels[h.meta.level].append(h) }
        levels[0].sort { $0.meta.fileNumber > $1.meta.fileNumber }
        for l in 1..<levels.count {
            levels[l].sort { InternalKey.compare($0.meta.smallestKey[...], $1.meta.smallestKey[...]) < 0 }
        }
        version = Version(levels: levels)
    }

    /// Calls the listeners with the lock released.
    func notify(_ change: SegmentChange) {
        let current = listeners
        guard !current.isEmpty else { return }
        lock.unlock()
        for l in current { l(change) }
        lock.lock()
    }

    /// Writes every entry of `table` to segment `number` (synced). Nil if the table is empty.
    static func writeSegment(from table: Memtable, number: UInt64, directory: String,
                             options: StorageOptions) throws(StorageError) -> SegmentMeta? {
        let it = MemtableIterator(table)
        it.seekToFirst()
        guard it.isValid else { return nil }
        let writer = try SegmentWriter(path: directory + "/" + FileNames.segment(number), options: options.segmentWriterOptions)
        do {
            while it.isValid {
                try writer.add(key: it.key[...], value: it.value)
                it.next()
            }
            let meta = try writer.finish(level: 0, fileNumber: number)
            try FileSystem.syncDirectory(directory)
            return meta
        } catch {
            writer.abandon()
            throw error
        }
    }
}
