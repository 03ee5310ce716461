import ArgumentParser
import CartStorage

/// `cartstore-dump verify DIR`: checks every checksum of every live file and prints one line
/// per file (`OK`, `SKIP`) or per problem (`CORRUPT name offset N: reason`). Exits 1 if any
/// live file is damaged. Never takes the directory's lock.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify every checksum of every live file in a data directory.",
        discussion: """
        Checks the manifest named by CURRENT, every live segment (footer, every block, index, \
        filter and meta, and the manifest's record of it) and every live WAL (every record; \
        only the newest may end in a torn write, which is noted, not an error). Orphan files \
        are listed as SKIP. Exit status 1 names each damaged file and offset.
        """
    )

    @Argument(help: "The data directory.")
    var directory: String

    @Flag(name: .long, help: "Do not list the files that are OK or skipped.")
    var quiet = false

    func run() throws {
        let report: DirectoryVerifier.Report
        do throws(StorageError) { report = try DirectoryVerifier(directory: directory).run() } catch { throw DumpOutput.failure(error) }
        if let why = report.livenessUnknownReason { print("warning: \(why)") }
        let width = max(16, report.files.map(\.name.count).max() ?? 0)
        var problemCount = 0
        for r in report.files {
            switch r.status {
            case .corrupt:
                for p in r.problems {
                    print("CORRUPT \(DumpOutput.pad(r.name, width)) \(p.offset.map { "offset \($0): " } ?? "")\(p.reason)")
                }
                if r.problemsOmitted > 0 { print("CORRUPT \(DumpOutput.pad(r.name, width)) and \(r.problemsOmitted) more problems") }
                problemCount += r.problems.count + r.problemsOmitted
            case .ok, .skipped:
                if !quiet { print("\(DumpOutput.pad(r.status.rawValue, 7)) \(DumpOutput.pad(r.name, width)) \(r.summary)") }
            }
            if !quiet || r.status == .corrupt {
                for note in r.notes { print("        \(DumpOutput.pad("", width)) note: \(note)") }
            }
        }
        let checked = report.files.filter { $0.status != .skipped }
        let corrupt = report.corruptFiles
        if corrupt.isEmpty {
            print("verify: \(checked.count) files OK")
        } else {
            print("verify: \(corrupt.count) of \(checked.count) files corrupt (\(problemCount) problems): "
                + corrupt.map(\.name).joined(separator: ", "))
            throw DumpOutput.damageFound
        }
    }
}
