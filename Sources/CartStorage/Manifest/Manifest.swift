import Logging

/// The manifest: an append-only log of `VersionEdit`s (framed like the WAL) plus the `CURRENT`
/// file naming the live manifest. A change to the set of live files is durable once its edit is
/// appended and fdatasync'ed; files an edit drops are deleted only after that.
///
/// Outcome rule (LevelDB's): once an edit's bytes may have reached the file, its outcome is
/// unknown until the next open replays the log. So a failed append or sync, or a failure after
/// `CURRENT` may have been switched to a new manifest, *poisons* the manifest: the edit may or
/// may not be durable, every later `append` is refused, and the caller must keep every file the
/// edit names or drops. Only failures whose outcome is known (nothing reached `CURRENT`) are
/// survived: a rollover that fails that early falls back to appending to the current log.
///
/// Rollover: once the log passes `rolloverBytes`, the next edit is committed by writing a new
/// manifest holding the whole state with the edit applied as one snapshot edit, syncing it and
/// switching `CURRENT` to it; the old manifest is deleted after that.
///
/// Thread safety: one caller at a time (the engine serializes manifest writers with its
/// `manifestBusy` flag; its lock is not held during `append`).
final class Manifest: @unchecked Sendable {
    let fileSystem: any FileSystem
    let directory: String
    private(set) var number: UInt64
    private var writer: LogWriter
    /// Once the edit log passes this size, the next append starts a new manifest holding one
    /// snapshot edit, so that replay at open stays short however long the node runs.
    var rolloverBytes = 4 * 1024 * 1024
    private(set) var state: ManifestState
    /// Set once an edit's outcome is unknown; every later append is refused with it.
    private(set) var poisoned: StorageError?
    var logger: Logger

    private init(fileSystem: any FileSystem, directory: String, number: UInt64, writer: LogWriter, state: ManifestState, logger: Logger) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.number = number
        self.writer = writer
        self.state = state
        self.logger = logger
    }

    var path: String { writer.path }

    /// True when the next append should roll over to a new manifest.
    var needsRollover: Bool { writer.size >= rolloverBytes }

    /// Writes a new manifest holding `state` as one snapshot edit, syncs it, points `CURRENT`
    /// at it (atomic rename + directory fsync). The caller deletes the previous manifest.
    /// When it throws, `CURRENT` may or may not name the new manifest (see `create`'s callers).
    static func create(fileSystem: any FileSystem, directory: String, number: UInt64, state: ManifestState,
                       logger: Logger) throws(StorageError) -> Manifest {
        var state = state
        state.nextFileNumber = max(state.nextFileNumber, number + 1)
        let writer = try writeSnapshot(fileSystem: fileSystem, directory: directory, number: number, state: state)
        do {
            try switchCurrent(fileSystem: fileSystem, directory: directory, to: number)
        } catch {
            try? writer.close(sync: false)
            throw error.cause
        }
        return Manifest(fileSystem: fileSystem, directory: directory, number: number, writer: writer, state: state, logger: logger)
    }

    /// Writes and syncs `MANIFEST-number` holding `state` as one snapshot edit. When it throws,
    /// no `CURRENT` names the file: the caller may delete it.
    private static func writeSnapshot(fileSystem: any FileSystem, directory: String, number: UInt64,
                                      state: ManifestState) throws(StorageError) -> LogWriter {
        let path = directory + "/" + FileNames.manifest(number)
        let writer = LogWriter(file: try fileSystem.createFile(path), number: number)
        do {
            try writer.addRecord(state.snapshotEdit.encode())
            try writer.sync()
        } catch {
            try? writer.close(sync: false)
            throw error
        }
        return writer
    }

    /// Points `CURRENT` at `MANIFEST-number`. The steps before the rename leave `CURRENT` as it
    /// was (`CurrentSwitchFailure.before`); an error from the rename or the directory sync leaves
    /// it unknown (`.unknown`).
    private static func switchCurrent(fileSystem: any FileSystem, directory: String, to number: UInt64) throws(CurrentSwitchFailure) {
        let currentPath = directory + "/" + FileNames.current
        let tmp = currentPath + ".tmp"
        do {
            try fileSystem.removeFile(tmp)
            let f = try fileSystem.createFile(tmp)
            defer { f.close() }
            try f.append(Array((FileNames.manifest(number) + "\n").utf8))
            try f.sync()
        } catch {
            throw .before(error)
        }
        do {
            try fileSystem.rename(tmp, to: currentPath)
            try fileSystem.syncDirectory(directory)
        } catch {
            throw .unknown(error)
        }
    }

    /// How switching `CURRENT` failed.
    enum CurrentSwitchFailure: Error {
        /// Before the rename: `CURRENT` still names the previous manifest.
        case before(StorageError)
        /// At or after the rename: `CURRENT` may name either manifest after a crash.
        case unknown(StorageError)

        var cause: StorageError {
            switch self {
            case let .before(e), let .unknown(e): return e
            }
        }
    }

    /// Reads `CURRENT` and replays the manifest it names. A torn final edit (a crash while
    /// appending, never acknowledged) is dropped; any other damage is an error.
    static func recover(fileSystem: any FileSystem, directory: String) throws(StorageError) -> (state: ManifestState, number: UInt64, tornTailOffset: Int?) {
        let currentPath = directory + "/" + FileNames.current
        let text = String(decoding: try fileSystem.readWholeFile(currentPath), as: UTF8.self)
        guard text.hasSuffix("\n"), case let .manifest(number)? = FileNames.parse(String(text.dropLast())) else {
            throw .corruption(file: currentPath, offset: 0, reason: "CURRENT does not name a manifest: \(text.debugDescription)")
        }
        let path = directory + "/" + FileNames.manifest(number)
        guard fileSystem.fileExists(path) else {
            throw .corruption(file: currentPath, offset: 0, reason: "CURRENT names \(FileNames.manifest(number)), which is missing")
        }
        var reader = LogReader(fileName: path, bytes: try fileSystem.readWholeFile(path), tailPolicy: .truncatedOnly)
        var state = ManifestState()
        var sawVersion = false
        try reader.forEach { (record) throws(StorageError) in
            let edit = try VersionEdit.decode(record.payload, file: path, offset: record.offset)
            if edit.formatVersion != nil { sawVersion = true }
            try state.apply(edit, file: path, offset: record.offset)
        }
        guard sawVersion else {
            throw .corruption(file: path, offset: 0, reason: "manifest has no format version record")
        }
        return (state, number, reader.tornTailOffset)
    }

    /// Commits `edit` (with `nextFileNumber` recorded) durably, through a new manifest numbered
    /// `rolloverNumber` when one is given (and that succeeds), else by appending to this one.
    ///
    /// Returns once the edit is durable. When it throws, the edit was checked against the state
    /// and refused (nothing written), or its outcome is unknown and the manifest is poisoned;
    /// either way `state` is unchanged and the caller keeps every file.
    func append(_ edit: VersionEdit, nextFileNumber: UInt64, rolloverNumber: UInt64?) throws(StorageError) {
        if let poisoned { throw poisoned }
        var edit = edit
        edit.nextFileNumber = nextFileNumber
        var next = state
        try next.apply(edit, file: path, offset: writer.size)
        if let rolloverNumber, try rollover(to: rolloverNumber, state: next) {
            return
        }
        do {
            try writer.addRecord(edit.encode())
            try writer.sync()
        } catch {
            poisoned = error
            throw error
        }
        state = next
    }

    /// Tries to commit `next` as the snapshot of a new manifest. True if it did; false if it
    /// failed before `CURRENT` could change (the caller appends instead); throws (and poisons)
    /// if `CURRENT` may or may not name the new manifest.
    private func rollover(to newNumber: UInt64, state next: ManifestState) throws(StorageError) -> Bool {
        var next = next
        next.nextFileNumber = max(next.nextFileNumber, newNumber + 1)
        let newPath = directory + "/" + FileNames.manifest(newNumber)
        let fresh: LogWriter
        do {
            fresh = try Self.writeSnapshot(fileSystem: fileSystem, directory: directory, number: newNumber, state: next)
        } catch {
            logger.warning("manifest rollover to \(FileNames.manifest(newNumber)) failed, appending to \(FileNames.manifest(number)) instead: \(error)")
            try? fileSystem.removeFile(newPath)
            return false
        }
        do throws(CurrentSwitchFailure) {
            try Self.switchCurrent(fileSystem: fileSystem, directory: directory, to: newNumber)
        } catch {
            try? fresh.close(sync: false)
            switch error {
            case let .before(cause):
                logger.warning("manifest rollover to \(FileNames.manifest(newNumber)) failed, appending to \(FileNames.manifest(number)) instead: \(cause)")
                try? fileSystem.removeFile(newPath)
                return false
            case let .unknown(cause):
                // CURRENT may name either manifest: keep both, write nothing more.
                poisoned = cause
                throw cause
            }
        }
        let oldPath = path
        try? writer.close(sync: false)
        writer = fresh
        number = newNumber
        state = next
        do { try fileSystem.removeFile(oldPath) } catch {
            logger.warning("could not delete the previous manifest \(oldPath) (the next open deletes it): \(error)")
        }
        return true
    }

    func close() { try? writer.close(sync: false) }
}
