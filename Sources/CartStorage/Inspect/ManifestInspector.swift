/// Reads a data directory's `CURRENT` file and the manifest it names: every edit in order, as
/// decoded, and the live files that replaying them gives — the same replay as recovery
/// (`VersionEdit.decode`, `ManifestState.apply`), but continuing past a bad edit so that all of
/// them are reported.
///
/// Invariants: files are opened read-only; the directory's `LOCK` is never touched, so this may
/// run on a directory an engine has open (it then sees the manifest as of the moment it is read).
/// Nothing in the files' bytes can trap.
///
/// Thread safety: stateless; may be called from any thread.
public enum ManifestInspector {
    /// A segment named by its level and file number (a deletion in an edit).
    public struct SegmentRef: Sendable, Equatable {
        public let level: Int
        public let fileNumber: UInt64
    }

    /// One decoded manifest edit; absent fields are nil or empty.
    public struct Edit: Sendable {
        /// Offset of the edit's record in the manifest.
        public let offset: Int
        public let formatVersion: UInt32?
        public let nextFileNumber: UInt64?
        public let lastSequence: UInt64?
        public let addedWALs: [UInt64]
        public let deletedWALs: [UInt64]
        public let addedSegments: [SegmentInfo]
        public let deletedSegments: [SegmentRef]

        init(_ e: VersionEdit, offset: Int) {
            self.offset = offset
            formatVersion = e.formatVersion
            nextFileNumber = e.nextFileNumber
            lastSequence = e.lastSequence
            addedWALs = e.addedWALs
            deletedWALs = e.deletedWALs
            addedSegments = e.addedSegments.map(\.info)
            deletedSegments = e.deletedSegments.map { SegmentRef(level: $0.level, fileNumber: $0.number) }
        }
    }

    /// The live files after replaying every edit that applied.
    public struct LiveFiles: Sendable {
        public let nextFileNumber: UInt64
        public let lastSequence: UInt64
        /// Live WAL numbers, oldest first (the last one receives new writes).
        public let wals: [UInt64]
        /// Per level: L0 newest first, deeper levels by smallest key.
        public let levels: [[SegmentInfo]]

        init(_ s: ManifestState) {
            nextFileNumber = s.nextFileNumber
            lastSequence = s.lastSequence
            wals = s.wals
            levels = s.levels.map { $0.map(\.info) }
        }
    }

    /// Everything `inspect` found.
    public struct Report: Sendable {
        public let directory: String
        /// The manifest `CURRENT` names, e.g. "MANIFEST-000002".
        public let manifestName: String
        public let manifestNumber: UInt64
        public let manifestBytes: Int
        public let edits: [Edit]
        public let live: LiveFiles
        /// Offset of a torn final edit that recovery drops (a crash while appending).
        public let tornTailOffset: Int?
        public let problems: [InspectionProblem]
        public let problemsOmitted: Int
        /// The replayed state, for the verifier.
        let state: ManifestState

        public var isHealthy: Bool { problems.isEmpty && problemsOmitted == 0 }
    }

    /// Largest `CURRENT` file accepted: it holds one file name and a newline.
    static let currentBytesMax = 4096

    /// Reads `CURRENT` and the manifest it names. Throws if `CURRENT` is missing, unreadable or
    /// does not name a manifest, or if the manifest cannot be read; damage inside the manifest
    /// is reported in `problems`.
    public static func inspect(directory: String, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) -> Report {
        let number = try readCurrent(directory: directory, fileSystem: fileSystem)
        return try inspect(directory: directory, number: number, fileSystem: fileSystem)
    }

    /// Reads one manifest file given by its path (its directory's `CURRENT` is not consulted).
    public static func inspect(manifestPath path: String, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) -> Report {
        let name = baseName(path)
        guard case let .manifest(number)? = FileNames.parse(name) else {
            throw .invalidArgument("\(path) is not named MANIFEST-NNNNNN")
        }
        let directory = path.count > name.count ? String(path.dropLast(name.count + 1)) : "."
        return try inspect(directory: directory, number: number, name: name, fileSystem: fileSystem)
    }

    private static func inspect(directory: String, number: UInt64, name: String? = nil,
                                fileSystem: any FileSystem) throws(StorageError) -> Report {
        let name = name ?? FileNames.manifest(number)
        let path = directory + "/" + name
        var problems = ProblemCollector(file: name)
        var edits: [Edit] = []
        var state = ManifestState()
        var sawVersion = false
        var refused = false
        /// Edits that contradict the state so far: reported only if no damage precedes them
        /// (after a lost record they are its consequence, not news).
        var contradictions: [InspectionProblem] = []
        let outcome = try LogInspector.scan(path: path, name: name, tailPolicy: .truncatedOnly, fileSystem: fileSystem) { record in
            guard !refused else { return }
            let edit: VersionEdit
            do throws(StorageError) { edit = try VersionEdit.decode(record.payload, file: path, offset: record.offset) } catch let e {
                problems.add(e)
                return
            }
            edits.append(Edit(edit, offset: record.offset))
            if edit.formatVersion != nil { sawVersion = true }
            if edit.addedWALs.contains(.max) || edit.addedSegments.contains(where: { $0.fileNumber == .max }) {
                problems.add(offset: record.offset, "manifest edit adds a file numbered \(UInt64.max), beyond the file-number range; not applied")
                return
            }
            var next = state
            do throws(StorageError) { try next.apply(edit, file: path, offset: record.offset) } catch let e {
                if case .unsupportedFormat = e {
                    refused = true
                    problems.add(e, context: "edit not applied", offset: record.offset)
                } else {
                    contradictions.append(InspectionProblem(file: name, error: e, context: "edit not applied", offset: record.offset))
                }
                return
            }
            state = next
        }
        if let damage = outcome.problems.compactMap(\.offset).min() {
            let consequences = contradictions.filter { ($0.offset ?? 0) > damage }.count + (sawVersion ? 0 : 1)
            problems.add(contentsOf: contradictions.filter { ($0.offset ?? 0) < damage })
            if consequences > 0 {
                problems.add(offset: damage, "edits after this damage cannot be replayed: \(consequences) of them "
                    + "contradict the state or the format version record is lost; the live-file set is unknown")
            }
        } else {
            problems.add(contentsOf: contradictions)
            if !sawVersion && !refused { problems.add(offset: 0, "manifest has no format version record") }
        }
        var all = ProblemCollector(file: name)
        all.add(contentsOf: (outcome.problems + problems.problems).sorted { ($0.offset ?? 0) < ($1.offset ?? 0) })
        return Report(directory: directory, manifestName: name, manifestNumber: number, manifestBytes: outcome.fileSize,
                      edits: edits, live: LiveFiles(state), tornTailOffset: outcome.tornTailOffset,
                      problems: all.problems, problemsOmitted: all.omitted + outcome.problemsOmitted + problems.omitted,
                      state: state)
    }

    /// The manifest number `CURRENT` names (its content must be `MANIFEST-NNNNNN\n`).
    public static func readCurrent(directory: String, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) -> UInt64 {
        let path = directory + "/" + FileNames.current
        let file = try fileSystem.openForReading(path)
        defer { file.close() }
        guard file.size <= currentBytesMax else {
            throw .corruption(file: path, offset: 0, reason: "CURRENT holds \(file.size) bytes; expected one manifest name and a newline")
        }
        let text = String(decoding: try file.read(at: 0, count: file.size), as: UTF8.self)
        guard text.hasSuffix("\n"), case let .manifest(number)? = FileNames.parse(String(text.dropLast())) else {
            throw .corruption(file: path, offset: 0, reason: "CURRENT does not name a manifest: \(text.debugDescription)")
        }
        return number
    }
}
