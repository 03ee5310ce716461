/// Verification of a whole segment: every checksum and every structural rule of format
/// version 1, collecting every problem rather than stopping at the first.
extension SegmentInspector {
    /// What `verify` found.
    public struct Verification: Sendable {
        /// At most 100 problems (the rest are counted in `problemsOmitted`), in file order.
        public let problems: [InspectionProblem]
        /// Problems found beyond the kept ones.
        public let problemsOmitted: Int
        /// Data blocks read (whether intact or not) and entries parsed.
        public let dataBlockCount: Int
        public let entryCount: Int
        public var isHealthy: Bool { problems.isEmpty && problemsOmitted == 0 }
    }

    /// Checks the footer, the filter, meta and index blocks, every data block's checksum and
    /// contents (key order, kinds, bloom membership), the layout of the blocks in the file and
    /// the meta block's counts against the data.
    public func verify() -> Verification { verify(name: path, expected: nil) }

    /// `verify()`, also comparing the file with what the manifest records about it.
    func verify(name: String, expected: SegmentMeta?) -> Verification {
        var problems = ProblemCollector(file: name)
        let footer: Footer
        do throws(StorageError) { footer = try readFooter() } catch let e {
            problems.add(e, context: "footer")
            return Verification(problems: problems.problems, problemsOmitted: problems.omitted, dataBlockCount: 0, entryCount: 0)
        }
        if let e = footer.error {
            problems.add(e, context: "footer", offset: footer.offset + 48) // the version field, if it is the version
            return Verification(problems: problems.problems, problemsOmitted: problems.omitted, dataBlockCount: 0, entryCount: 0)
        }
        if let expected, expected.fileSize != UInt64(fileSize) {
            problems.add(offset: nil, "the manifest records a size of \(expected.fileSize) bytes, the file has \(fileSize)")
        }
        checkLayout(footer, &problems)
        var filter: [UInt8]? = nil
        do throws(StorageError) { filter = try filterBytes(footer) } catch let e { problems.add(e, context: "filter block") }
        if let f = filter, !(f.count >= 2 && (1...30).contains(Int(f[f.count - 1]))) {
            problems.add(offset: Int(footer.filterHandle.offset), "filter block of \(f.count) bytes is malformed (probe count must be 1...30)")
            filter = nil
        }
        var properties: SegmentProperties? = nil
        do throws(StorageError) { properties = try readProperties(footer) } catch let e { problems.add(e, context: "meta block") }
        let index = readIndex(footer)
        if let e = index.error { problems.add(e, context: "index block") }

        var tally = DataTally()
        var intact = index.error == nil
        for (i, entry) in index.entries.enumerated() {
            if !verifyDataBlock(i, entry, footer: footer, filter: filter, tally: &tally, problems: &problems) { intact = false }
        }
        if intact, tally.dataEnd != footer.filterHandle.offset {
            problems.add(offset: Int(tally.dataEnd), "data blocks end at \(tally.dataEnd) but the filter block starts at \(footer.filterHandle.offset)")
        }
        if intact, let properties { compare(properties, with: tally, index.entries.count, at: Int(footer.metaHandle.offset), &problems) }
        if let expected, let properties { compare(expected, with: properties, &problems) }
        return Verification(problems: problems.problems, problemsOmitted: problems.omitted,
                            dataBlockCount: index.entries.count, entryCount: tally.entries)
    }

    /// Filter, meta and index blocks and the footer follow each other with no gap (v1 layout).
    private func checkLayout(_ footer: Footer, _ problems: inout ProblemCollector) {
        let order = [("filter", footer.filterHandle), ("meta", footer.metaHandle), ("index", footer.indexHandle)]
        for (i, (name, h)) in order.enumerated() {
            let nextStart = i + 1 < order.count ? order[i + 1].1.offset : UInt64(footer.offset)
            let nextName = i + 1 < order.count ? "the \(order[i + 1].0) block" : "the footer"
            if h.end != nextStart {
                problems.add(offset: Int(h.offset), "\(name) block ends at \(h.end) but \(nextName) starts at \(nextStart)")
            }
        }
    }

    /// Checks data block `i`; false if it could not be read or parsed completely.
    private func verifyDataBlock(_ i: Int, _ entry: IndexEntry, footer: Footer, filter: [UInt8]?,
                                 tally: inout DataTally, problems: inout ProblemCollector) -> Bool {
        let indexOffset = Int(footer.indexHandle.offset)
        if let previous = tally.previousIndexKey, compareKeys(previous, entry.lastKey[...]) >= 0 {
            problems.add(offset: indexOffset, "index entry \(i) is not larger than index entry \(i - 1)")
        }
        tally.previousIndexKey = entry.lastKey.count >= InternalKey.trailerSize ? entry.lastKey : nil
        guard let h = entry.handle else {
            problems.add(offset: indexOffset, "index entry \(i): \(entry.handleProblem ?? "bad handle")")
            return false
        }
        if h.offset != tally.dataEnd {
            problems.add(offset: Int(h.offset), "data block \(i) starts at \(h.offset), expected \(tally.dataEnd) (gap or overlap)")
        }
        tally.dataEnd = h.end
        var n = 0
        let report = scanBlock(h) { (key, value) throws(StorageError) in
            guard key.count >= InternalKey.trailerSize else {
                throw .corruption(file: path, offset: Int(h.offset), reason: "entry \(n): key of \(key.count) bytes is shorter than its 8-byte trailer")
            }
            let context = "data block \(i) entry \(n)"
            if let previous = tally.previousKey, compareKeys(previous, key) >= 0 {
                problems.add(offset: Int(h.offset), "\(context): key is not larger than the previous key")
            }
            if entry.lastKey.count >= InternalKey.trailerSize, InternalKey.compare(key, entry.lastKey[...]) > 0 {
                problems.add(offset: Int(h.offset), "\(context): key is larger than the block's index key")
            }
            let trailer = InternalKey.trailer(key)
            let kind = UInt8(truncatingIfNeeded: trailer)
            if ValueKind(rawValue: kind) == nil { problems.add(offset: Int(h.offset), "\(context): unknown value kind \(kind)") }
            let userKey = InternalKey.userKey(key)
            if let filter, !BloomFilter.mayContain(filter, hash: Hash64.hash(userKey)) {
                problems.add(offset: Int(footer.filterHandle.offset), "bloom filter rejects the key of \(context) (reads would miss it)")
            }
            tally.add(key: key, value: value, sequence: trailer >> 8, isDeletion: kind == ValueKind.deletion.rawValue)
            n += 1
        }
        if let e = report.error {
            problems.add(e, context: "data block \(i)")
            return false
        }
        return true
    }

    /// The meta block must describe the data exactly.
    private func compare(_ p: SegmentProperties, with t: DataTally, _ blockCount: Int, at offset: Int,
                         _ problems: inout ProblemCollector) {
        func check(_ what: String, _ recorded: UInt64, _ actual: UInt64) {
            if recorded != actual { problems.add(offset: offset, "meta block records \(what) \(recorded), the data has \(actual)") }
        }
        check("entry count", p.entryCount, UInt64(t.entries))
        check("deletion count", p.deletionCount, UInt64(t.deletions))
        check("data block count", p.dataBlockCount, UInt64(blockCount))
        check("raw key bytes", p.rawKeyBytes, t.keyBytes)
        check("raw value bytes", p.rawValueBytes, t.valueBytes)
        guard t.entries > 0 else { return }
        check("smallest sequence", p.sequenceSmallest, t.sequenceSmallest)
        check("largest sequence", p.sequenceLargest, t.sequenceLargest)
        if p.smallestKey != t.smallestKey { problems.add(offset: offset, "meta block's smallest key is not the first key of the data") }
        if p.largestKey != t.largestKey { problems.add(offset: offset, "meta block's largest key is not the last key of the data") }
    }

    /// The manifest's record of the segment must match its meta block.
    private func compare(_ m: SegmentMeta, with p: SegmentProperties, _ problems: inout ProblemCollector) {
        func check(_ what: String, _ recorded: UInt64, _ actual: UInt64) {
            if recorded != actual { problems.add(offset: nil, "the manifest records \(what) \(recorded), the meta block \(actual)") }
        }
        check("entry count", m.entryCount, p.entryCount)
        check("smallest sequence", m.sequenceSmallest, p.sequenceSmallest)
        check("largest sequence", m.sequenceLargest, p.sequenceLargest)
        if m.smallestKey != p.smallestKey { problems.add(offset: nil, "the manifest's smallest key differs from the meta block's") }
        if m.largestKey != p.largestKey { problems.add(offset: nil, "the manifest's largest key differs from the meta block's") }
    }

    /// Internal-key order for keys that may be shorter than a trailer (those sort by bytes).
    private func compareKeys(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Int {
        guard a.count >= InternalKey.trailerSize, b.count >= InternalKey.trailerSize else { return compareBytes(a[...], b) }
        return InternalKey.compare(a[...], b)
    }
}

/// What the data blocks of one segment hold, summed while verifying.
private struct DataTally {
    var entries = 0
    var deletions = 0
    var keyBytes: UInt64 = 0
    var valueBytes: UInt64 = 0
    var sequenceSmallest: UInt64 = .max
    var sequenceLargest: UInt64 = 0
    var smallestKey: [UInt8] = []
    var largestKey: [UInt8] = []
    /// End (trailer included) of the last data block seen.
    var dataEnd: UInt64 = 0
    var previousKey: [UInt8]? = nil
    var previousIndexKey: [UInt8]? = nil

    mutating func add(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>, sequence: UInt64, isDeletion: Bool) {
        if entries == 0 { smallestKey = Array(key) }
        entries += 1
        if isDeletion { deletions += 1 }
        keyBytes += UInt64(key.count)
        valueBytes += UInt64(value.count)
        sequenceSmallest = min(sequenceSmallest, sequence)
        sequenceLargest = max(sequenceLargest, sequence)
        largestKey = Array(key)
        previousKey = largestKey
    }
}
