import ArgumentParser
import CartStorage

/// `cartstore-dump manifest DIR`: what `CURRENT` names, every edit of the live manifest in
/// order with its decoded fields, and the live files (WALs, segments per level) they add up to.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Dump a data directory's manifest: edit history and live files."
    )

    @Argument(help: "The data directory (holding CURRENT and MANIFEST-NNNNNN), or a MANIFEST-NNNNNN file.")
    var path: String

    @Flag(name: .long, help: "Print keys in hex even when they are printable UTF-8.")
    var hex = false

    func run() throws {
        let report: ManifestInspector.Report
        let givenFile = path.split(separator: "/").last?.hasPrefix("MANIFEST-") ?? false
        do throws(StorageError) {
            report = givenFile ? try ManifestInspector.inspect(manifestPath: path) : try ManifestInspector.inspect(directory: path)
        } catch {
            throw DumpOutput.failure(error)
        }
        let f = ByteFormatter(forceHex: hex)
        if givenFile {
            print("manifest  \(path) (\(report.manifestBytes) bytes, \(report.edits.count) edits; CURRENT not consulted)")
        } else {
            print("CURRENT   names \(report.manifestName)")
            print("manifest  \(path)/\(report.manifestName) (\(report.manifestBytes) bytes, \(report.edits.count) edits)")
        }
        for (i, e) in report.edits.enumerated() {
            print("")
            print("edit \(i + 1) at offset \(e.offset)")
            if let v = e.formatVersion { field("format_version", "\(v)") }
            if let n = e.nextFileNumber { field("next_file_number", "\(n)") }
            if let s = e.lastSequence { field("last_sequence", "\(s)") }
            for n in e.addedWALs { field("add_wal", walName(n)) }
            for n in e.deletedWALs { field("delete_wal", walName(n)) }
            for s in e.addedSegments { field("add_segment", segment(s, f)) }
            for d in e.deletedSegments { field("delete_segment", "L\(d.level) \(segmentName(d.fileNumber))") }
        }
        print("")
        print("live files")
        field("next_file_number", "\(report.live.nextFileNumber)")
        field("last_sequence", "\(report.live.lastSequence)")
        field("WALs", report.live.wals.isEmpty ? "none" : report.live.wals.map(walName).joined(separator: " "))
        for (level, segments) in report.live.levels.enumerated() where !segments.isEmpty {
            for (i, s) in segments.enumerated() { field(i == 0 ? "L\(level)" : "", segment(s, f, level: false)) }
        }
        if let t = report.tornTailOffset {
            print("torn final edit at offset \(t): \(report.manifestBytes - t) bytes that recovery drops (never acknowledged)")
        }
        for p in report.problems { print("DAMAGED \(p)") }
        if report.problemsOmitted > 0 { print("DAMAGED \(report.manifestName): \(report.problemsOmitted) more problems") }
        if !report.isHealthy { throw DumpOutput.damageFound }
    }

    private func field(_ name: String, _ value: String) {
        print("  \(DumpOutput.pad(name, 18)) \(value)")
    }

    private func walName(_ n: UInt64) -> String { FileNames.wal(n) }
    private func segmentName(_ n: UInt64) -> String { FileNames.segment(n) }

    private func segment(_ s: SegmentInfo, _ f: ByteFormatter, level: Bool = true) -> String {
        (level ? "L\(s.level) " : "") + "\(segmentName(s.fileNumber)) \(s.fileSize) bytes, \(s.entryCount) entries, "
            + "sequences \(s.sequenceSmallest)...\(s.sequenceLargest), keys \(f.key(s.smallestKey)) ... \(f.key(s.largestKey))"
    }
}
