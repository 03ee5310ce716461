import Logging

/// Opening a data directory: lock it, replay the manifest, delete files no edit references,
/// open the live segments, replay the live WALs into memtables (flushing them to L0 segments),
/// then start a fresh WAL and a fresh manifest naming exactly the recovered state.
///
/// Crash safety: nothing that the old manifest references is deleted before `CURRENT` names the
/// new manifest; a crash at any step leaves either the old state or the new one, plus orphan
/// files that the next open deletes.
struct Recovery {
    let directory: String
    let options: StorageOptions
    var logger: Logger { options.logger }

    func run() throws(StorageError) -> StorageEngine {
        if options.createIfMissing { try FileSystem.createDirectory(directory) }
        guard FileSystem.isDirectory(directory) else {
            throw .io(operation: "open data directory", path: directory, errno: ENOENT)
        }
        let dirLock = try DirectoryLock.acquire(directory: directory)
        do {
            return try recover(dirLock)
        } catch {
            dirLock.release()
            throw error
        }
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func recover(_ dirLock: DirectoryLock) throws(StorageError) -> StorageEngine {
        let names = try FileSystem.listDirectory(directory)
        var state = ManifestState()
        var oldManifest: UInt64? = nil
        if names.contains(FileNames.current) {
            let r = try Manifest.recover(directory: directory)
            state = r.state
            oldManifest = r.number
            if let torn = r.tornTailOffset {
                logger.warning("dropped a torn final edit of \(FileNames.manifest(r.number)) at offset \(torn)")
            }
        } else if try !isInterruptedCreation(names) {
            throw .corruption(file: path(FileNames.current), offset: 0,
                              reason: "CURRENT is missing but the directory holds segments or non-empty WALs; refusing to guess")
        }
        try deleteOrphans(names, state: state, keepManifest: oldManifest)

        let cache = options.blockCacheBytes > 0 ? BlockCache(capacityBytes: options.blockCacheBytes) : nil
        let tables = TableCache(directory: directory, capacity: options.maxOpenFiles, blocks: cache)
        var recovered: [SegmentMeta] = []
        var mem = Memtable()
        var sequence = state.lastSequence
        for (i, walNumber) in state.wals.enumerated() {
            let isNewest = i == state.wals.count - 1
            try replay(wal: walNumber, tailPolicy: isNewest ? .anyDamage : .strict, into: &mem, sequence: &sequence,
                       flushed: &recovered, state: &state)
        }
        if !mem.isEmpty {
            try flushRecovered(&mem, state: &state, into: &recovered)
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
        let walFile = try PosixFile.create(path(FileNames.wal(walNumber)))
        try FileSystem.syncDirectory(directory)
        let manifest = try Manifest.create(directory: directory, number: manifestNumber, state: next)
        manifest.rolloverBytes = options.manifestRolloverBytes
        for n in oldWALs { try FileSystem.remove(path(FileNames.wal(n))) }
        if let oldManifest { try FileSystem.remove(path(FileNames.manifest(oldManifest))) }

        var levels: [[SegmentHandle]] = Array(repeating: [], count: Levels.count)
        for (l, metas) in manifest.state.levels.enumerated() {
            for meta in metas {
                let handle = SegmentHandle(meta: meta, tables: tables)
                if let e = handle.verifyOpens() {
                    logger.error("segment \(FileNames.segment(meta.fileNumber)) cannot be opened; reads in its key range will fail: \(e)")
                }
                levels[l].append(handle)
            }
        }
        return StorageEngine(directory: directory, options: options, directoryLock: dirLock, cache: cache, tables: tables,
                             mem: Memtable(), wal: LogWriter(file: walFile, number: walNumber),
                             manifest: manifest, version: Version(levels: levels), lastSequence: sequence)
    }

    /// True if the directory holds nothing but what an interrupted first open leaves behind:
    /// manifests and empty WALs, no segments. `CURRENT` is renamed into place as the last step
    /// of every open and never removed, so without it no write was ever acknowledged here.
    private func isInterruptedCreation(_ names: [String]) throws(StorageError) -> Bool {
        for name in names {
            switch FileNames.parse(name) {
            case .segment?: return false
            case .wal?:
                let f = try PosixFile.openForReading(path(name))
                let size = f.size
                try f.close()
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
                try FileSystem.remove(path(name))
            }
        }
    }

    private func replay(wal number: UInt64, tailPolicy: LogReader.TailPolicy, into mem: inout Memtable, sequence: inout UInt64,
                        flushed: inout [SegmentMeta], state: inout ManifestState) throws(StorageError) {
        let walPath = path(FileNames.wal(number))
        guard FileSystem.exists(walPath) else {
            throw .corruption(file: walPath, offset: 0, reason: "WAL named by the manifest is missing")
        }
        let bytes = try FileSystem.readWholeFile(walPath)
        var reader = LogReader(fileName: walPath, bytes: bytes, tailPolicy: tailPolicy)
        var records = 0
        try reader.forEach { (record) throws(StorageError) in
            let last = try WriteBatch.decode(record.payload, file: walPath, recordOffset: record.offset) { (seq, e) throws(StorageError) in
                mem.insert(sequence: seq, kind: e.kind, key: e.key, value: e.value)
            }
            sequence = max(sequence, last)
            records += 1
            if mem.approximateBytes >= options.memtableBytes {
                try flushRecovered(&mem, state: &state, into: &flushed)
            }
        }
        if let torn = reader.tornTailOffset {
            logger.warning("WAL \(FileNames.wal(number)): torn tail at offset \(torn) truncated (\(bytes.count - torn) bytes dropped, an unacknowledged write)")
        }
        logger.debug("replayed \(records) records from \(FileNames.wal(number))")
    }

    private func flushRecovered(_ mem: inout Memtable, state: inout ManifestState, into flushed: inout [SegmentMeta]) throws(StorageError) {
        let number = state.nextFileNumber
        state.nextFileNumber += 1
        if let meta = try StorageEngine.writeSegment(from: mem, number: number, directory: directory, options: options) {
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
