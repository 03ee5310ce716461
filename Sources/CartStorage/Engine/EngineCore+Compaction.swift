/// Compaction: merges segments down the levels, keeping only the newest version of each key and
/// dropping tombstones once no older data for their key can exist below.
///
/// Crash safety: outputs are written and synced (with their names durable) first, then one
/// manifest edit deletes the inputs and adds the outputs. A crash or error before the edit leaves
/// orphan outputs, which are deleted (their outcome is known: nothing names them). If the edit
/// itself fails, its outcome is unknown: inputs and outputs are all kept and the engine stops
/// writing; the next open keeps whichever the manifest names and deletes the others. Inputs are
/// deleted only after the edit is durable, and only once no version, scan or compaction holds
/// them (`SegmentFile`).
extension EngineCore {
    /// Entries merged between checks for a pending flush and for `close`.
    static let compactionCheckEntries = 4096

    /// The next compaction (lock held): automatic ones by score, and the steps of a `compactAll`
    /// request, alternating when both are due.
    func nextCompaction() -> (plan: CompactionPlan, manual: Bool)? {
        lock.assertHeld()
        let automatic = options.compactionEnabled ? CompactionPlan.pick(version, options: options, pointers: compactPointers) : nil
        if manualCompaction != nil {
            if let automatic, lastStepWasManual {
                lastStepWasManual = false
                return (automatic, false)
            }
            if let plan = nextManualPlan() {
                lastStepWasManual = true
                return (plan, true)
            }
        }
        lastStepWasManual = false
        return automatic.map { ($0, false) }
    }

    /// True if a compaction is due (lock held); changes nothing.
    func nextCompactionIsDue() -> Bool {
        lock.assertHeld()
        if manualCompaction != nil { return true }
        return options.compactionEnabled && CompactionPlan.pick(version, options: options, pointers: compactPointers) != nil
    }

    /// The next step of the `compactAll` request, or nil once it is done (lock held; clears the
    /// request and wakes its caller then).
    private func nextManualPlan() -> CompactionPlan? {
        lock.assertHeld()
        while var m = manualCompaction {
            let remaining = version.levels[m.level].filter { m.pending.contains($0.number) }
            if !remaining.isEmpty {
                // L0: the pending segments are the oldest of L0 (later flushes are newer), so they
                // may go down without the rest. Deeper levels: one segment at a time, in key order.
                return CompactionPlan.plan(version, level: m.level, upper: m.level == 0 ? remaining : [remaining[0]])
            }
            m.level += 1
            m.bottom = max(m.bottom, version.levels.lastIndex { !$0.isEmpty } ?? 0)
            if m.level >= m.bottom {
                manualCompaction = nil
                lock.broadcast()
                return nil
            }
            m.pending = Set(version.levels[m.level].map(\.number))
            manualCompaction = m
        }
        return nil
    }

    /// Runs `plan` (lock held; released during I/O). While a `compactAll` request is active,
    /// every compaction rewrites (no trivial moves), so that nothing its data passes through
    /// reaches the bottom level with an older version or a droppable tombstone left in it.
    func run(_ plan: CompactionPlan, manual: Bool) {
        lock.assertHeld()
        if plan.isTrivialMove && !manual && manualCompaction == nil {
            trivialMove(plan)
        } else {
            runCompaction(plan, manual: manual)
        }
        if let last = plan.upper.last { compactPointers[plan.level] = Array(last.largestUserKey) }
    }

    /// Moves one segment down a level with a manifest edit alone. The same `SegmentFile` is
    /// installed at the new level, so scans holding it keep it alive.
    private func trivialMove(_ plan: CompactionPlan) {
        let file = plan.upper[0]
        var edit = VersionEdit()
        edit.deletedSegments = [(plan.level, file.number)]
        edit.addedSegments = [file.meta(level: plan.outputLevel)]
        do {
            try logAndApply(edit, operation: "moving \(FileNames.segment(file.number)) to L\(plan.outputLevel)")
        } catch {
            return
        }
        install(adding: [(plan.outputLevel, file)], removing: [file.number])
        statistics.compactionCount += 1
        notify(SegmentChange(reason: .compaction, added: [file.info(level: plan.outputLevel)], removed: [file.info(level: plan.level)]))
    }

    private func runCompaction(_ plan: CompactionPlan, manual: Bool) {
        let base = version
        let started = monotonicNanoseconds()
        lock.unlock()
        let result = Result { () throws(StorageError) -> [SegmentMeta] in try self.mergeInputs(plan, version: base) }
        lock.lock()
        switch result {
        case .failure(.closed):
            logger.debug("compaction L\(plan.level)→L\(plan.outputLevel) abandoned: the engine is closing")
        case let .failure(error):
            enterFailed("compaction L\(plan.level)→L\(plan.outputLevel)", error)
        case let .success(outputs):
            install(plan, outputs: outputs, manual: manual, startedNanos: started)
        }
    }

    /// Installs compaction outputs with one manifest edit, then marks the inputs obsolete (lock
    /// held). If the edit fails, every input and output file is kept.
    private func install(_ plan: CompactionPlan, outputs: [SegmentMeta], manual: Bool, startedNanos: UInt64) {
        var edit = VersionEdit()
        edit.deletedSegments = plan.upper.map { (plan.level, $0.number) } + plan.lower.map { (plan.outputLevel, $0.number) }
        edit.addedSegments = outputs
        do {
            try logAndApply(edit, operation: "installing compaction L\(plan.level)→L\(plan.outputLevel)")
        } catch {
            return
        }
        let added = outputs.map { SegmentFile(meta: $0, tables: tables) }
        // Inputs are deleted when the last version, scan or compaction holding them lets go.
        for f in plan.inputs { f.markObsolete() }
        install(adding: added.map { (plan.outputLevel, $0) }, removing: Set(plan.inputs.map(\.number)))
        let readBytes = plan.inputs.reduce(UInt64(0)) { $0 + $1.size }
        let writtenBytes = outputs.reduce(UInt64(0)) { $0 + $1.fileSize }
        statistics.compactionCount += 1
        if manual { statistics.manualCompactionSteps += 1 }
        statistics.bytesCompactedRead += readBytes
        statistics.bytesCompactedWritten += writtenBytes
        logger.debug("compacted L\(plan.level)→L\(plan.outputLevel): \(plan.inputs.count) segments (\(readBytes) bytes) into \(outputs.count) (\(writtenBytes) bytes) in \((monotonicNanoseconds() - startedNanos) / 1_000_000) ms")
        notify(SegmentChange(reason: .compaction, added: outputs.map(\.info),
                             removed: plan.upper.map { $0.info(level: plan.level) } + plan.lower.map { $0.info(level: plan.outputLevel) }))
        lock.unlock()
        for f in added {
            if let e = f.verifyOpens(), e != .closed { logger.error("compaction output \(FileNames.segment(f.number)) does not open: \(e)") }
        }
        lock.lock()
    }

    /// Merges the inputs into new segments (lock not held). Between output blocks it lets a
    /// pending memtable flush run first, so a long compaction never stalls writers for long, and
    /// gives up (throwing `.closed`, outputs deleted) once the engine is closing.
    private func mergeInputs(_ plan: CompactionPlan, version: Version) throws(StorageError) -> [SegmentMeta] {
        var outputs: [SegmentMeta] = []
        var writer: SegmentWriter?
        var writerNumber: UInt64 = 0
        do throws(StorageError) {
            var children: [any InternalIterator] = []
            for f in plan.inputs { children.append(try f.reader().makeIterator()) }
            let merged = MergingIterator(children)
            try merged.seekToFirst()
            var lastUserKey: [UInt8]? = nil
            var processed = 0
            while merged.isValid {
                processed += 1
                if processed % Self.compactionCheckEntries == 0 {
                    if directory.isClosed { throw StorageError.closed }
                    yieldToFlush()
                }
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
                    writerNumber = lock.withLock { allocateFileNumber() }
                    writer = try SegmentWriter(fileSystem: directory.fileSystem, path: directory.file(FileNames.segment(writerNumber)),
                                               options: options.segmentWriterOptions)
                }
                try writer?.add(key: key[...], value: merged.value)
                try merged.next()
            }
            if let w = writer {
                outputs.append(try w.finish(level: plan.outputLevel, fileNumber: writerNumber))
                writer = nil
            }
            if !outputs.isEmpty { try directory.fileSystem.syncDirectory(directory.path) }
            return outputs
        } catch {
            // No edit names the outputs: deleting them is safe whatever reached the disk.
            writer?.abandon()
            for m in outputs { try? directory.fileSystem.removeFile(directory.file(FileNames.segment(m.fileNumber))) }
            throw error
        }
    }

    /// Flushes a waiting immutable memtable in the middle of a compaction (LevelDB does the same).
    private func yieldToFlush() {
        lock.lock()
        if imm != nil, case .open = lifecycle { flushImmutable() }
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
