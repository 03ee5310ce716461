/// The manifest: an append-only log of `VersionEdit`s (framed like the WAL) plus the `CURRENT`
/// file naming the live manifest. A change to the set of live files is durable once its edit
/// is appended and fdatasync'ed; files an edit drops are deleted only after that.
///
/// Thread safety: the engine calls `append` and `allocateFileNumber` with its lock held.
final class Manifest: @unchecked Sendable {
    let directory: String
    private(set) var number: UInt64
    private var writer: LogWriter
    /// Once the edit log passes this size, the next append starts a new manifest holding one
    /// snapshot edit, so that replay at open stays short however long the node runs.
    var rolloverBytes = 4 * 1024 * 1024
    private(set) var state: ManifestState

    private init(directory: String, number: UInt64, writer: LogWriter, state: ManifestState) {
        self.directory = directory
        self.number = number
        self.writer = writer
        self.state = state
    }

    var path: String { writer.path }

    /// Writes a new manifest holding `state` as one snapshot edit, syncs it, points `CURRENT`
    /// at it (atomic rename + directory fsync). The caller deletes the previous manifest.
    static func create(directory: String, number: UInt64, state: ManifestState) throws(StorageError) -> Manifest {
        var state = state
        state.nextFileNumber = max(state.nextFileNumber, number + 1)
        let path = directory + "/" + FileNames.manifest(number)
        let writer = LogWriter(file: try PosixFile.create(path), number: number)
        try writer.addRecord(state.snapshotEdit.encode())
        try writer.sync()
        try FileSystem.writeAtomically(Array((FileNames.manifest(number) + "\n").utf8),
                                       to: directory + "/" + FileNames.current, directory: directory)
        return Manifest(directory: directory, number: number, writer: writer, state: state)
    }

    /// Reads `CURRENT` and replays the manifest it names. A torn final edit (a crash while
    /// appending, never acknowledged) is dropped; any other damage is an error.
    static func recover(directory: String) throws(StorageError) -> (state: ManifestState, number: UInt64, tornTailOffset: Int?) {
        let currentPath = directory + "/" + FileNames.current
        let text = String(decoding: try FileSystem.readWholeFile(currentPath), as: UTF8.self)
        guard text.hasSuffix("\n"), case let .manifest(number)? = FileNames.parse(String(text.dropLast())) else {
            throw .corruption(file: currentPath, offset: 0, reason: "CURRENT does not name a manifest: \(text.debugDescription)")
        }
        let path = directory + "/" + FileNames.manifest(number)
        var reader = LogReader(fileName: path, bytes: try FileSystem.readWholeFile(path), tailPolicy: .truncatedOnly)
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

    /// Takes the next file number. It becomes durable with the next appended edit.
    func allocateFileNumber() -> UInt64 {
        defer { state.nextFileNumber += 1 }
        return state.nextFileNumber
    }

    /// Validates `edit` against the state, appends it and syncs. On success the new state is
    /// in effect; on failure nothing changed in memory (the file may hold a torn record, so
    /// the engine stops writing).
    func append(_ edit: VersionEdit) throws(StorageError) {
        var edit = edit
        var next = state
        try next.apply(edit, file: path, offset: writer.size)
        edit.nextFileNumber = state.nextFileNumber
        next.nextFileNumber = max(next.nextFileNumber, state.nextFileNumber)
        try writer.addRecord(edit.encode())
        try writer.sync()
        state = next
        if writer.size >= rolloverBytes { try rollover() }
    }

    /// Writes the whole state into a new manifest, points CURRENT at it and deletes the old
    /// one. A crash before the rename keeps the old manifest (the new one is an orphan).
    private func rollover() throws(StorageError) {
        let newNumber = allocateFileNumber()
        let fresh = try Manifest.create(directory: directory, number: newNumber, state: state)
        fresh.rolloverBytes = rolloverBytes
        let oldPath = path
        try? writer.close()
        writer = fresh.writer
        number = newNumber
        state = fresh.state
        try FileSystem.remove(oldPath)
    }

    func close() { try? writer.close() }
}
