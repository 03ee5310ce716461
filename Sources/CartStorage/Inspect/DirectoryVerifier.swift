/// Verifies every checksum of every live file of a data directory — the manifest named by
/// `CURRENT`, each live segment (footer, every block, index, filter and meta, and the manifest's
/// record of it), each live WAL (every record) — and collects every problem as (file, offset,
/// reason) instead of stopping at the first.
///
/// The torn-tail policy is recovery's: the newest WAL may end in a torn write (reported as a
/// note, not a problem), older WALs may not, and the manifest may end in a record cut short by
/// the end of the file. If `CURRENT` or the manifest is unusable, every segment and WAL in the
/// directory is verified instead, and the report says that liveness is unknown.
///
/// Invariants: every file is opened read-only and the `LOCK` file is never opened, so this may
/// run on a copy or on a directory an engine has open. A live file that disappears while it is
/// being verified (a flush deleting its WAL) is reported as skipped if a fresh read of the
/// manifest no longer names it.
///
/// Thread safety: a value type; `run` may be called from any thread.
public struct DirectoryVerifier: Sendable {
    /// The verdict on one file.
    public enum Status: String, Sendable {
        case ok = "OK"
        case corrupt = "CORRUPT"
        /// Not verified: not live (an orphan), not an engine file, or gone while verifying.
        case skipped = "SKIP"
    }

    /// One file's result.
    public struct FileResult: Sendable {
        /// File name inside the directory.
        public let name: String
        public let status: Status
        /// One line describing the file (size, counts, level).
        public let summary: String
        public let problems: [InspectionProblem]
        /// Problems found beyond the kept ones.
        public let problemsOmitted: Int
        /// Facts worth knowing that are not problems (a torn tail that recovery drops).
        public let notes: [String]
    }

    /// The result of a run.
    public struct Report: Sendable {
        public let directory: String
        /// Nil if the live files came from the manifest; otherwise why every file was verified.
        public let livenessUnknownReason: String?
        public let files: [FileResult]

        public var isHealthy: Bool { files.allSatisfy { $0.status != .corrupt } }
        public var corruptFiles: [FileResult] { files.filter { $0.status == .corrupt } }
    }

    public let directory: String
    public let fileSystem: any FileSystem

    public init(directory: String, fileSystem: any FileSystem = PosixFileSystem()) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    /// Verifies the directory. Throws only if it cannot be listed (missing, not a directory).
    public func run() throws(StorageError) -> Report {
        guard fileSystem.isDirectory(directory) else {
            throw .io(operation: "open data directory", path: directory, errno: fileSystem.fileExists(directory) ? ENOTDIR : ENOENT)
        }
        let names = try fileSystem.listDirectory(directory)
        var results: [FileResult] = []
        let live: (segments: [SegmentMeta], wals: [UInt64])
        var unknownReason: String? = nil
        var verified: Set<String> = []
        do throws(StorageError) {
            let manifest = try ManifestInspector.inspect(directory: directory, fileSystem: fileSystem)
            results.append(FileResult(name: FileNames.current, status: .ok, summary: "names \(manifest.manifestName)",
                                      problems: [], problemsOmitted: 0, notes: []))
            results.append(manifestResult(manifest))
            verified.formUnion([FileNames.current, manifest.manifestName])
            if manifest.isHealthy {
                live = (manifest.state.levels.flatMap { $0 }, manifest.state.wals)
            } else {
                // A partial replay would call live files missing and orphans live: trust none of it.
                unknownReason = "\(manifest.manifestName) cannot be fully replayed; verifying every segment and WAL in the directory"
                live = allFiles(names)
            }
        } catch let e {
            let (name, reason) = manifestFailure(e, names: names)
            results.append(FileResult(name: name, status: .corrupt, summary: "",
                                      problems: [InspectionProblem(file: name, error: e)], problemsOmitted: 0, notes: []))
            verified.insert(name)
            unknownReason = reason
            live = allFiles(names)
        }
        let newestWAL = live.wals.max()
        for meta in live.segments {
            let name = FileNames.segment(meta.fileNumber)
            verified.insert(name)
            results.append(verifySegment(name, meta: unknownReason == nil ? meta : nil))
        }
        for number in live.wals.sorted() {
            let name = FileNames.wal(number)
            verified.insert(name)
            results.append(verifyWAL(name, newest: number == newestWAL))
        }
        for name in names where !verified.contains(name) {
            if let r = skipped(name) { results.append(r) }
        }
        return Report(directory: directory, livenessUnknownReason: unknownReason, files: recheckMissing(results))
    }

    /// Which file a manifest failure belongs to, and why liveness is unknown.
    private func manifestFailure(_ e: StorageError, names: [String]) -> (name: String, reason: String) {
        var failed = FileNames.current
        if case let .io(_, p, _) = e { failed = baseName(p) }
        if case let .corruption(file, _, _) = e { failed = baseName(file) }
        let reason = names.contains(FileNames.current)
            ? "\(failed) is unusable; verifying every segment and WAL in the directory"
            : "there is no CURRENT file; verifying every segment and WAL in the directory"
        return (failed, reason)
    }

    /// Every segment and WAL in the directory (used when the manifest cannot say which are live).
    private func allFiles(_ names: [String]) -> (segments: [SegmentMeta], wals: [UInt64]) {
        var segments: [SegmentMeta] = []
        var wals: [UInt64] = []
        for name in names {
            switch FileNames.parse(name) {
            case let .segment(n)?:
                segments.append(SegmentMeta(level: 0, fileNumber: n, fileSize: 0, entryCount: 0, sequenceSmallest: 0,
                                            sequenceLargest: 0, smallestKey: [], largestKey: []))
            case let .wal(n)?: wals.append(n)
            default: break
            }
        }
        return (segments, wals)
    }

    private func manifestResult(_ m: ManifestInspector.Report) -> FileResult {
        var notes: [String] = []
        if let t = m.tornTailOffset {
            notes.append("torn final edit at offset \(t) (\(m.manifestBytes - t) bytes) is dropped by recovery: it was never acknowledged")
        }
        let liveCount = m.live.levels.reduce(0) { $0 + $1.count }
        let summary = "\(m.edits.count) edits, \(m.manifestBytes) bytes, \(liveCount) live segments, \(m.live.wals.count) live WALs"
        return FileResult(name: m.manifestName, status: m.isHealthy ? .ok : .corrupt, summary: summary,
                          problems: m.problems, problemsOmitted: m.problemsOmitted, notes: notes)
    }

    private func verifySegment(_ name: String, meta: SegmentMeta?) -> FileResult {
        let level = meta.map { "L\($0.level), " } ?? ""
        let inspector: SegmentInspector
        do throws(StorageError) { inspector = try SegmentInspector(path: path(name), fileSystem: fileSystem) } catch let e { return missingOrUnreadable(name, e) }
        let v = inspector.verify(name: name, expected: meta)
        let summary = "\(level)\(v.dataBlockCount) data blocks, \(v.entryCount) entries, \(inspector.fileSize) bytes"
        return FileResult(name: name, status: v.isHealthy ? .ok : .corrupt, summary: summary,
                          problems: v.problems, problemsOmitted: v.problemsOmitted, notes: [])
    }

    private func verifyWAL(_ name: String, newest: Bool) -> FileResult {
        var problems = ProblemCollector(file: name)
        var records = 0, entries = 0
        var sequences: (first: UInt64, last: UInt64)? = nil
        let outcome: LogInspector.Outcome
        do throws(StorageError) {
            outcome = try LogInspector.scan(path: path(name), name: name, tailPolicy: newest ? .anyDamage : .strict, fileSystem: fileSystem) { record in
                do throws(StorageError) {
                    let b = try LogInspector.decodeBatch(record, file: name)
                    if let s = sequences, b.count > 0, b.firstSequence <= s.last {
                        problems.add(offset: record.offset, "batch starts at sequence \(b.firstSequence), not after the previous record's \(s.last)")
                    }
                    records += 1
                    entries += b.count
                    if b.count > 0 { sequences = (sequences?.first ?? b.firstSequence, b.lastSequence) }
                } catch let e {
                    problems.add(e)
                }
            }
        } catch let e {
            return missingOrUnreadable(name, e)
        }
        var all = ProblemCollector(file: name)
        all.add(contentsOf: (outcome.problems + problems.problems).sorted { ($0.offset ?? 0) < ($1.offset ?? 0) })
        var notes: [String] = []
        if let t = outcome.tornTailOffset {
            notes.append("torn tail at offset \(t) (\(outcome.fileSize - t) bytes) is dropped by recovery: an unacknowledged write")
        }
        let range = sequences.map { ", sequences \($0.first)...\($0.last)" } ?? ""
        let summary = "\(records) records, \(entries) entries\(range), \(outcome.fileSize) bytes\(newest ? " (newest)" : "")"
        let omitted = all.omitted + outcome.problemsOmitted + problems.omitted
        return FileResult(name: name, status: all.isEmpty && omitted == 0 ? .ok : .corrupt, summary: summary,
                          problems: all.problems, problemsOmitted: omitted, notes: notes)
    }

    private func missingOrUnreadable(_ name: String, _ e: StorageError) -> FileResult {
        if case let .io(_, _, code) = e, code == ENOENT {
            return FileResult(name: name, status: .corrupt, summary: "",
                              problems: [InspectionProblem(file: name, offset: nil, reason: "named by the manifest but missing")],
                              problemsOmitted: 0, notes: [])
        }
        return FileResult(name: name, status: .corrupt, summary: "", problems: [InspectionProblem(file: name, error: e)],
                          problemsOmitted: 0, notes: [])
    }

    /// A file the manifest does not name; nil for names that need no mention (`LOCK`).
    private func skipped(_ name: String) -> FileResult? {
        let why: String
        switch FileNames.parse(name) {
        case .lock?: return nil
        case .segment?, .wal?, .manifest?: why = "not live: an orphan that the next open deletes"
        case .temporary?: why = "temporary file: the next open deletes it"
        case .current?: why = "not used"
        case nil: why = "not a CartStore file"
        }
        return FileResult(name: name, status: .skipped, summary: why, problems: [], problemsOmitted: 0, notes: [])
    }

    private static func isSegmentOrWAL(_ name: String) -> Bool {
        switch FileNames.parse(name) {
        case .segment?, .wal?: return true
        default: return false
        }
    }

    /// A live file found missing may have been deleted by the engine since the manifest was read
    /// (a flush retires its WAL): if a fresh read of the manifest no longer names it, skip it.
    private func recheckMissing(_ results: [FileResult]) -> [FileResult] {
        let missing = Set(results.filter { $0.status == .corrupt && !fileSystem.fileExists(path($0.name)) }.map(\.name))
        guard !missing.isEmpty, let fresh = try? ManifestInspector.inspect(directory: directory, fileSystem: fileSystem) else { return results }
        let stillLive = Set(fresh.state.wals.map(FileNames.wal) + fresh.state.levels.flatMap { $0.map { FileNames.segment($0.fileNumber) } })
        return results.map { r in
            guard missing.contains(r.name), !stillLive.contains(r.name), Self.isSegmentOrWAL(r.name) else { return r }
            return FileResult(name: r.name, status: .skipped, summary: "deleted by the engine while verifying (no longer live)",
                              problems: [], problemsOmitted: 0, notes: [])
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
