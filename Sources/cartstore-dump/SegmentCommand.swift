import ArgumentParser
import CartStorage

/// `cartstore-dump segment FILE`: the footer, meta block, filter, index and every data block
/// (offset, stored size, compression, uncompressed size, entries, checksum) of one segment,
/// and with `--entries` every key and value.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Dump a segment (.seg) file: footer, metadata, index and data blocks."
    )

    @Argument(help: "The segment file, e.g. data/000004.seg.")
    var file: String

    @OptionGroup var options: EntryOptions

    func run() throws {
        let inspector: SegmentInspector
        let footer: SegmentInspector.Footer
        do throws(StorageError) {
            inspector = try SegmentInspector(path: file)
            footer = try inspector.readFooter()
        } catch {
            throw DumpOutput.failure(error)
        }
        print("segment \(file) (\(inspector.fileSize) bytes)")
        printFooter(footer)
        if let e = footer.error {
            DumpOutput.printError("the footer is invalid, nothing else can be located: \(e)")
            throw DumpOutput.damageFound
        }
        var damaged = false
        damaged = !printMeta(inspector, footer) || damaged
        damaged = !printFilter(inspector, footer) || damaged
        damaged = !printBlocks(inspector, footer) || damaged
        if damaged { throw DumpOutput.damageFound }
    }

    private func printFooter(_ f: SegmentInspector.Footer) {
        let magicText = String(decoding: withUnsafeBytes(of: f.magic.littleEndian) { Array($0) }.map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
        print("footer (offset \(f.offset), \(SegmentInspector.footerSize) bytes)")
        print("  index handle     \(f.indexHandle)")
        print("  filter handle    \(f.filterHandle)")
        print("  meta handle      \(f.metaHandle)")
        print("  format version   \(f.formatVersion) (this build reads up to \(SegmentInspector.formatVersion))")
        print("  footer crc32     \(ByteFormatter.hex32(f.storedChecksum)) \(f.checksumMatches ? "ok" : "MISMATCH (computed \(ByteFormatter.hex32(f.computedChecksum)))")")
        print("  magic            \(ByteFormatter.hex64(f.magic)) \"\(magicText)\" \(f.magicMatches ? "ok" : "WRONG (expected \(ByteFormatter.hex64(SegmentInspector.magic)))")")
    }

    /// Prints the meta block; false if it is damaged.
    private func printMeta(_ inspector: SegmentInspector, _ footer: SegmentInspector.Footer) -> Bool {
        print("meta block (\(footer.metaHandle))")
        let p: SegmentProperties
        do throws(StorageError) { p = try inspector.readProperties(footer) } catch {
            print("  DAMAGED: \(InspectionProblem(file: file, error: error).reason)")
            return false
        }
        let f = options.formatter
        print("  entries          \(p.entryCount) (\(p.deletionCount) deletions)")
        print("  sequences        \(p.entryCount == 0 ? "none" : "\(p.sequenceSmallest)...\(p.sequenceLargest)")")
        print("  data blocks      \(p.dataBlockCount)")
        print("  raw key bytes    \(p.rawKeyBytes)")
        print("  raw value bytes  \(p.rawValueBytes)")
        print("  smallest key     \(f.internalKey(p.smallestKey))")
        print("  largest key      \(f.internalKey(p.largestKey))")
        return true
    }

    /// Prints the filter block's shape; false if it is damaged.
    private func printFilter(_ inspector: SegmentInspector, _ footer: SegmentInspector.Footer) -> Bool {
        print("filter block (\(footer.filterHandle))")
        do throws(StorageError) {
            let f = try inspector.readFilter(footer)
            let shape = "\(f.bitArrayBytes) bytes of bits (\(f.bitArrayBytes * 8) bits), \(f.probes) probes"
            print("  \(shape)\(f.isWellFormed ? "" : " MALFORMED (readers ignore it)")")
            return f.isWellFormed
        } catch {
            print("  DAMAGED: \(InspectionProblem(file: file, error: error).reason)")
            return false
        }
    }

    /// Prints the index with each data block (and its entries with `--entries`); false if any
    /// of them is damaged.
    private func printBlocks(_ inspector: SegmentInspector, _ footer: SegmentInspector.Footer) -> Bool {
        let index = inspector.readIndex(footer)
        let f = options.formatter
        print("index block (\(footer.indexHandle)): \(index.entries.count) entries, \(index.restartCount) restarts")
        print("data blocks:")
        print("  \(DumpOutput.pad("#", 4))  \(DumpOutput.padLeft("offset", 9))  \(DumpOutput.padLeft("stored", 9))  "
            + "\(DumpOutput.pad("compr", 5))  \(DumpOutput.padLeft("raw", 9))  \(DumpOutput.padLeft("entries", 7))  "
            + "\(DumpOutput.pad("crc32", 17))  last key (index)")
        var intact = index.error == nil
        var stored: UInt64 = 0, raw = 0, entries = 0
        for (i, entry) in index.entries.enumerated() {
            let number = DumpOutput.pad("\(i)", 4)
            guard let h = entry.handle else {
                print("  \(number)  BAD INDEX ENTRY: \(entry.handleProblem ?? "bad handle"); last key \(f.internalKey(entry.lastKey))")
                intact = false
                continue
            }
            var lines: [String] = []
            let report = inspector.inspectBlock(h, entries: options.entries ? { lines.append("      " + f.entry($0)) } : nil)
            let rawSize = report.uncompressedSize.map(String.init) ?? "?"
            let crc = report.checksumMatches ? "\(ByteFormatter.hex32(report.storedChecksum ?? 0)) ok"
                : "\(report.storedChecksum.map(ByteFormatter.hex32) ?? "?") BAD (computed \(report.computedChecksum.map(ByteFormatter.hex32) ?? "?"))"
            print("  \(number)  \(DumpOutput.padLeft("\(h.offset)", 9))  \(DumpOutput.padLeft("\(h.size)", 9))  "
                + "\(DumpOutput.pad(report.compressionName, 5))  \(DumpOutput.padLeft(rawSize, 9))  "
                + "\(DumpOutput.padLeft("\(report.entryCount)", 7))  \(DumpOutput.pad(crc, 17))  \(f.internalKey(entry.lastKey))")
            for line in lines { print(line) }
            if let e = report.error {
                print("        DAMAGED: \(InspectionProblem(file: file, error: e).description)")
                intact = false
            }
            stored += h.size
            raw += report.uncompressedSize ?? 0
            entries += report.entryCount
        }
        if let e = index.error {
            print("  DAMAGED INDEX: \(InspectionProblem(file: file, error: e).description)")
        }
        let ratio = raw == 0 ? "" : ", stored/raw \(percent(Double(stored) / Double(raw)))"
        print("total: \(index.entries.count) data blocks, \(entries) entries, \(stored) bytes stored, \(raw) bytes raw\(ratio)")
        return intact
    }

    private func percent(_ x: Double) -> String {
        let tenths = Int((x * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
