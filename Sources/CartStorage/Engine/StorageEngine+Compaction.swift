/// Background compaction: merges segments down the levels, keeping only the newest version of
/// each key and dropping tombstones once no older data for their key can exist below.
///
/// Crash safety: outputs are written and synced first, then one manifest edit deletes the
/// inputs and adds the outputs; inputs are unlinked only after that edit is durable (and once
/// no reader holds them). A crash before the edit leaves orphan outputs, and one after it
/// leaves unlinked inputs; the next open deletes both.
extension StorageEngine {
    /// Runs one compaction if one is due (lock held; released during I/O). Returns whether it
    /// did any work.
    func compactIfNeeded() -> Bool {
        guard backgroundError == nil else { return false }
        if let manual = nextManualPlan() {
            run(manual, allowTrivialMove: false) // rewrite, so that tombstones reaching the bottom are dropped
            return true
        }
        guard options.compactionEnabled,
              let plan = CompactionPlan.pick(version, options: options, pointers: compactPointers) else { return false }
        run(plan)
        return true
    }

    /// The next step of a requested full compaction, or nil once it is done (lock held).
    private func nextManualPlan() -> CompactionPlan? {
        while let m = manualCompaction {
            if m.level >= m.bottom {
                manualCompaction = nil
                lock.broadcast()
                return nil
            }
            if let plan = CompactionPlan.plan(version, level: m.level, pointer: []) { return plan }
            manualCompaction = (m.level + 1, m.bottom)
        }
        return nil
    }

    private func run(_ plan: CompactionPlan, allowTrivialMove: Bool = true) {
        if plan.isTrivialMove && allowTrivialMove {
            trivialMove(plan)
        } else {
            runCompaction(plan)
        }
        if let last = plan.upper.last { compactPointers[plan.level] = Array(last.meta.largestUserKey) }
    }

    private func trivialMove(_ plan: CompactionPlan) {
        let h = plan.upper[0]
        var meta = h.meta
        meta.level = plan.outputLevel
        var edit = VersionEdit()
        edit.deletedSegments = [(plan.level, meta.fileNumber)]
        edit.addedSegments = [meta]
        do {
            try manifest.append(edit)
        } catch {
            backgroundError = backgroundError ?? error
            logger.error("trivial move of \(FileNames.segment(meta.fileNumber)) failed: \(error)")
            return
        }
        install(adding: [SegmentHandle(meta: meta, tables: tables)], removing: [meta.fileNumber])
        statistics.compactionCount += 1
        notify(SegmentChange(reason: .compaction, added: [meta.info], removed: [h.meta.info]))
    }

    private func runCompaction(_ plan: CompactionPlan) {
        let base = version
        let started = monotonicNanoseconds()
        lock.unlock()
        let result = Result { () throws(StorageError) -> [SegmentMeta] in try self.mergeInputs(plan, version: base) }
        lock.lock()
        switch result {
        case let .failure(error):
            backgroundError = backgroundError ?? error
            logger.error("compaction L\(plan.level)→L\(plan.outputLevel) failed: \(error)")
        case let .success(outputs):
            install(plan, outputs: outputs, startedNanos: started)
        }
    }

    /// Installs compaction outputs with one manifest edit, then deletes the inputs (lock held).
    private func install(_ plan: CompactionPlan, outputs: [SegmentMeta], startedNanos: UInt64) {
        var edit = VersionEdit()
        edit.deletedSegments = plan.upper.map { (plan.level, $0.meta.fileNumber) } + plan.lower.map { (plan.outputLevel, $0.meta.fileNumber) }
        edit.addedSegments = outputs
        do {
            try manifest.append(edit)
        } catch {
            backgroundError = backgroundError ?? error
            for m in outputs { try? FileSystem.remove(path(FileNames.segment(m.fileNumber))) }
            logger.error("installing compaction L\(plan.level)→L\(plan.outputLevel) failed: \(error)")
            return
        }
        let added = outputs.map { SegmentHandle(meta: $0, tables: tables) }
        for h in added { if let e = h.verifyOpens() { logger.error("compaction output \(FileNames.segment(h.meta.fileNumber)) does not open: \(e)") } }
        // Inputs are unlinked when the last version, scan or compaction holding them lets go.
        for h in plan.inputs { h.markObsolete() }
        install(adding: added, removing: Set(plan.inputs.map(\.meta.fileNumber)))
        let readBytes = plan.inputs.reduce(UInt64(0)) { $0 + $1.meta.fileSize }
        let writtenBytes = outputs.reduce(UInt64(0)) { $0 + $1.fileSize }
        statistics.compactionCount += 1
        statistics.bytesCompactedRead += readBytes
        statistics.bytesCompactedWritten += writtenBytes
        logger.debug("compacted L\(plan.level)→L\(plan.outputLevel): \(plan.inputs.count) segments (\(readBytes) bytes) into \(outputs.count) (\(writtenBytes) bytes) in \((monotonicNanoseconds() - startedNanos) / 1_000_000) ms")
        notify(SegmentChange(reason: .compaction, added: outputs.map(\.info), removed: plan.inputs.map(\.meta.info)))
    }

    /// Merges the inputs into new segments (lock not held). Between output blocks it lets a
    /// pending memtable flush run first, so a long compaction never stalls writers for long.
    private func mergeInputs(_ plan: CompactionPlan, version: Version) throws(StorageError) -> [SegmentMeta] {
        var children: [any InternalIterator] = []
        for h in plan.inputs { children.append(try h.reader().makeIterator()) }
        let merged = MergingIterator(children)
        try merged.seekToFirst()
        var outputs: [SegmentMeta] = []
        var writer: SegmentWriter?
        var writerNumber: UInt64 = 0
        var lastUserKey: [UInt8]? = nil
        var processed = 0
        do {
            while merged.isValid {
                processed += 1
                if processed % 4096 == 0 { yieldToFlush() }
                let key = merged.key
                let userKey = InternalKey.userKey(key[...])
                let isNewUserKey = lastUserKey.map { $0[...] != userKey } ?? true
                if !isNewUserKey {
                    // An older version of a key already written: shadowed, drop it.
                    try merged.next()
                    continue
                }
                lastUserKey = Array(userKey)
                let isTombstone = UInt8(truncatingIfNeeded: InternalKey.trailer(key[...])) == ValueKind.deletion.rawValue
                if isTombstone && !Self.olderDataMayExist(userKey, below: plan.outputLevel, in: version) {
                    try merged.next()
                    continue
                }
                if let w = writer, w.estimatedSize >= options.targetSegmentBytes {
                    outputs.append(try w.finish(level: plan.outputLevel, fileNumber: writerNumber))
                    writer = nil
                }
                if writer == nil {
                    writerNumber = lock.withLock { manifest.allocateFileNumber() }
                    writer = try SegmentWriter(path: path(FileNames.segment(writerNumber)), options: options.segmentWriterOptions)
                }
                try writer?.add(key: key[...], value: merged.value)
                try merged.next()
            }
            if let w = writer {
                outputs.append(try w.finish(level: plan.outputLevel, fileNumber: writerNumber))
                writer = nil
            }
            if !outputs.isEmpty { try FileSystem.syncDirectory(directory) }
            return outputs
        } catch {
            writer?.abandon()
            for m in outputs { try? FileSystem.remove(path(FileNames.segment(m.fileNumber))) }
            throw error
        }
    }

    /// Flushes a waiting immutable memtable in the middle of a compaction (LevelDB does the same).
    private func yieldToFlush() {
        lock.lock()
        if imm != nil && backgroundError == nil { flushImmutable() }
        lock.unlock()
    }

    /// True if a level deeper than `level` has a segment whose range holds `userKey`: a
    /// tombstone for it must then be kept.
    static func olderDataMayExist(_ userKey: ArraySlice<UInt8>, below level: Int, in version: Version) -> Bool {
        for l in (level + 1)..<Levels.count where !version.levels[l].isEmpty {
            if Version.find(version.levels[l], userKey) != nil { return true }
        }
        return false
    }
}
