import Logging

/// Opening a data directory: lock it, replay the manifest, check that every file it names is
/// there, delete files no edit references, replay the live WALs into memtables (flushing them to
/// L0 segments), then start a fresh WAL and a fresh manifest naming exactly the recovered state.
///
/// Crash safety: nothing that the old manifest references is deleted before `CURRENT` names the
/// new manifest; a crash at any step leaves either the old state or the new one, plus orphan
/// files that the next open deletes. A file the manifest names but the directory lacks means
/// something deleted a live file: the open is refused and nothing is deleted, so that no orphan
/// that might be the missing data's last copy is lost to a guess.
struct Recovery {
    let directory: String
    let options: StorageOptions
    var logger: Logger { options.logger }
    var fileSystem: any FileSystem { options.fileSystem }

    func run() throws(StorageError) -> EngineCore {
        if options.createIfMissing { try fileSystem.createDirectory(directory) }
        guard fileSystem.isDirectory(directory) else {
            throw .io(operation: "open data directory", path: directory, errno: ENOENT)
        }
        let dirLock = try fileSystem.lockDirectory(directory)
        do {
            return try recover(dirLock)
        } catch {
            dirLock.release()
            throw error
        }
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func recover(_ dirLock: any DirectoryLock) throws(StorageError) -> EngineCore {
        let names = try fileSystem.listDirectory(directory)
        var state = ManifestState()
        var oldManifest: UInt64? = nil
        if names.contains(FileNames.current) {
            let r = try Manifest.recover(fileSystem: fileSystem, directory: directory)
            state = r.state
            oldManifest = r.number
            if let torn = r.tornTailOffset {
                logger.warning("dropped a torn final edit of \(FileNames.manifest(r.number)) at offset \(torn)")
            }
        } else if try !isInterruptedCreation(names) {
            throw .corruption(file: path(FileNames.current), offset: 0,
                              reason: "CURRENT is missing but the directory holds segments or non-empty WALs; refusing to guess")
        }
        let manifestPath = oldManifest.map { path(FileNames.manifest($0)) } ?? path(FileNames.current)
        try checkLiveFilesPresent(names, state: state, manifestPath: manifestPath)

        let dataDirectory = DataDirectory(fileSystem: fileSystem, path: directory, logger: logger)
        let cache = options.blockCacheBytes > 0 ? BlockCache(capacityBytes: options.blockCacheBytes) : nil
        let tables = TableCache(directory: dataDirectory, capacity: options.maxOpenFiles, blocks: cache)
        let named = Version(levels: state.levels.map { $0.map { SegmentFile(meta: $0, tables: tables) } })
        if let violation = named.violation() {
            throw .corruption(file: manifestPath, offset: 0, reason: "the manifest's segments break a level invariant: \(violation)")
        }
        try deleteOrphans(names, state: state, keepManifest: oldManifest)

        var recovered: [SegmentMeta] = []
        var mem = Memtable()
        var sequence = state.lastSequence
        var replayedSequence: UInt64 = 0
        for (i, walNumber) in state.wals.enumerated() {
            let isNewest = i == state.wals.count - 1
            try replay(wal: walNumber, tailPolicy: isNewest ? .anyDamage : .strict, into: &mem, sequence: &sequence,
                       replayedSequence: &replayedSequence, flushed: &recovered, state: &state, directory: dataDirectory)
        }
        if !mem.isEmpty {
            try flushRecovered(&mem, state: &state, into: &recovered, directory: dataDirectory)
        }

        // New WAL and manifest describing the recovered state.
        var next = state
        let walNumber = next.nextFileNumber
        let manifestNumber = walNumber + 1
        next.nextFileNumber = manifestNumber + 1
        let oldWALs = next.wals
        next.wals = [walNumber]
        next.lastSequence = sequence
        for s in recovered { next.levels[0].append(s) }
        next.sortLevels()
        let walFile = try fileSystem.createFile(path(FileNames.wal(walNumber)))
        let manifest: Manifest
        do {
            try fileSystem.syncDirectory(directory)
            manifest = try Manifest.create(fileSystem: fileSystem, directory: directory, number: manifestNumber, state: next, logger: logger)
        } catch {
            walFile.close()
            throw error
        }
        manifest.rolloverBytes = options.manifestRolloverBytes
        // CURRENT now durably names the new manifest: the old WALs and manifest are garbage.
        do {
            for n in oldWALs { try fileSystem.removeFile(path(FileNames.wal(n))) }
            if let oldManifest { try fileSystem.removeFile(path(FileNames.manifest(oldManifest))) }
        } catch {
            logger.warning("could not delete a replaced WAL or manifest (the next open deletes it): \(error)")
        }

        var files = named.levels
        let recoveredFiles = recovered.map { SegmentFile(meta: $0, tables: tables) }
        files[0] = (files[0] + recoveredFiles).sorted { $0.number > $1.number }
        let version = Version(levels: files)
        for (level, list) in version.levels.enumerated() {
            for file in list {
                if let e = file.verifyOpens() {
                    logger.error("segment \(FileNames.segment(file.number)) at L\(level) cannot be opened; reads in its key range will fail: \(e)")
                }
            }
        }
        return EngineCore(directory: dataDirectory, options: options, directoryLock: dirLock, cache: cache, tables: tables,
                          wal: LogWriter(file: walFile, number: walNumber), manifest: manifest, version: version,
                          lastSequence: sequence)
    }

    /// Refuses to open if a WAL or segment the manifest names is not in the directory.
    private func checkLiveFilesPresent(_ names: [String], state: ManifestState, manifestPath: String) throws(StorageError) {
        let present = Set(names)
        let missing = state.wals.map(FileNames.wal) + state.levels.flatMap { $0.map { FileNames.segment($0.fileNumber) } }
        if let name = missing.first(where: { !present.contains($0) }) {
            throw .corruption(file: manifestPath, offset: 0,
                              reason: "the manifest names \(name), which is missing; refusing to open (nothing was deleted)")
        }
    }

    /// True if the directory holds nothing but what an interrupted first open leaves behind:
    /// manifests and empty WALs, no segments. `CURRENT` is renamed into place as the last step
    /// of every open and never removed, so without it no write was ever acknowledged here.
    private func isInterruptedCreation(_ names: [String]) throws(StorageError) -> Bool {
        for name in names {
            switch FileNames.parse(name) {
            case .segment?: return false
            case .wal?:
                let f = try fileSystem.openForReading(path(name))
                let size = f.size
                f.close()
                if size > 0 { return false }
            default: break
            }
        }
        return true
    }

    /// Deletes files that no manifest edit references: unfinished segments and WALs of a crash,
    /// temporaries, and manifests other than the live one.
    private func deleteOrphans(_ names: [String], state: ManifestState, keepManifest: UInt64?) throws(StorageError) {
        let liveSegments = state.liveSegmentNumbers
        for name in names {
            var orphan = false
            switch FileNames.parse(name) {
            case let .segment(n)?: orphan = !liveSegments.contains(n)
            case let .wal(n)?: orphan = !state.wals.contains(n)
            case let .manifest(n)?: orphan = n != keepManifest
            case .temporary?: orphan = true
            default: break
            }
            if orphan {
                logger.info("deleting orphan file \(name)")
                try fileSystem.removeFile(path(name))
            }
        }
    }

    /// Replays one WAL into `mem`. Sequence numbers must strictly increase through the replay:
    /// a record that goes back is corruption (it would insert a version twice).
    private func replay(wal number: UInt64, tailPolicy: LogReader.TailPolicy, into mem: inout Memtable, sequence: inout UInt64,
                        replayedSequence: inout UInt64, flushed: inout [SegmentMeta], state: inout ManifestState,
                        directory dataDirectory: DataDirectory) throws(StorageError) {
        let walPath = path(FileNames.wal(number))
        let bytes = try fileSystem.readWholeFile(walPath)
        var reader = LogReader(fileName: walPath, bytes: bytes, tailPolicy: tailPolicy)
        var records = 0
        try reader.forEach { (record) throws(StorageError) in
            var first = true
            let last = try WriteBatch.decode(record.payload, file: walPath, recordOffset: record.offset) { (seq, e) throws(StorageError) in
                if first {
                    guard seq > replayedSequence else {
                        throw .corruption(file: walPath, offset: record.offset,
                                          reason: "batch sequence \(seq) does not follow the previous record's \(replayedSequence)")
                    }
                    first = false
                }
                mem.insert(sequence: seq, kind: e.kind, key: e.key, value: e.value)
            }
            replayedSequence = last
            sequence = max(sequence, last)
            records += 1
            if mem.approximateBytes >= options.memtableBytes {
                try flushRecovered(&mem, state: &state, into: &flushed, directory: dataDirectory)
            }
        }
        if let torn = reader.tornTailOffset {
            logger.warning("WAL \(FileNames.wal(number)): torn tail at offset \(torn) truncated (\(bytes.count - torn) bytes dropped, an unacknowledged write)")
        }
        logger.debug("replayed \(records) records from \(FileNames.wal(number))")
    }

    private func flushRecovered(_ mem: inout Memtable, state: inout ManifestState, into flushed: inout [SegmentMeta],
                                directory dataDirectory: DataDirectory) throws(StorageError) {
        let number = state.nextFileNumber
        state.nextFileNumber += 1
        if let meta = try EngineCore.writeSegment(from: mem, number: number, directory: dataDirectory, options: options) {
            flushed.append(meta)
        }
        mem = Memtable()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
