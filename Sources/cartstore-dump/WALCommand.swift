import ArgumentParser
import CartStorage

/// `cartstore-dump wal FILE`: every record of a write-ahead log (offset, first sequence, entry
/// count) and with `--entries` every put and delete; damaged regions and a torn tail are
/// reported with their offsets. Damage is read past: the dump resumes at the next 32 KiB block
/// that holds a readable record.
struct WALCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Dump a write-ahead log (.wal) file: records, sequence numbers and entries."
    )

    @Argument(help: "The WAL file, e.g. data/000005.wal.")
    var file: String

    @OptionGroup var options: EntryOptions

    func run() throws {
        let f = options.formatter
        var records = 0, entries = 0
        var sequences: (first: UInt64, last: UInt64)? = nil
        var problems: [InspectionProblem] = []
        let outcome: LogInspector.Outcome
        do throws(StorageError) {
            // A dump takes the most lenient view (the newest WAL's); damage before readable
            // records is reported either way.
            outcome = try LogInspector.scan(path: file, tailPolicy: .anyDamage) { record in
                do throws(StorageError) {
                    var lines: [String] = []
                    let b = try LogInspector.decodeBatch(record, file: file,
                                                         entries: options.entries ? { lines.append("    " + f.entry($0)) } : nil)
                    records += 1
                    entries += b.count
                    let seq = b.count == 0 ? "no entries" : "sequences \(b.firstSequence)...\(b.lastSequence)"
                    print("record \(DumpOutput.pad("\(records)", 6)) offset \(DumpOutput.padLeft("\(record.offset)", 9))  "
                        + "\(DumpOutput.padLeft("\(b.payloadBytes)", 7)) bytes  \(b.count) entries, \(seq)")
                    for line in lines { print(line) }
                    if b.count > 0 { sequences = (sequences?.first ?? b.firstSequence, b.lastSequence) }
                } catch {
                    let p = InspectionProblem(file: file, error: error)
                    problems.append(p)
                    print("record at offset \(record.offset): DAMAGED: \(p.reason)")
                }
            }
        } catch {
            throw DumpOutput.failure(error)
        }
        let range = sequences.map { ", sequences \($0.first)...\($0.last)" } ?? ""
        print("total: \(records) records, \(entries) entries\(range), \(outcome.fileSize) bytes")
        if records == 0 && outcome.tornTailOffset == 0 && outcome.fileSize > 0 {
            print("no readable record at all: is this a CartStore WAL?")
        }
        if let t = outcome.tornTailOffset {
            print("torn tail at offset \(t): \(outcome.fileSize - t) bytes that recovery drops if this is the newest WAL (an unacknowledged write); an older WAL with a torn tail is corrupt")
        }
        for p in outcome.problems { print("DAMAGED \(p)") }
        if outcome.problemsOmitted > 0 { print("DAMAGED \(file): \(outcome.problemsOmitted) more damaged regions") }
        if !outcome.isHealthy || !problems.isEmpty { throw DumpOutput.damageFound }
    }
}
