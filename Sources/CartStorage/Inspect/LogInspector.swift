/// Reads the logical records of a log file (a write-ahead log or a manifest) for inspection,
/// and keeps going past damage: where the engine's `LogReader` stops at the first damaged
/// region, this reports it and resumes at the next 32 KiB block boundary that holds a
/// readable record, so that every damaged region of the file is found.
///
/// Invariants: the framing and the torn-tail decision are the engine's own (`LogReader`); the
/// file is opened read-only; nothing in its bytes can trap. Memory: the whole file is read, as
/// recovery does (a WAL is bounded by the memtable size, a manifest by its edits).
///
/// Thread safety: stateless; every function may be called from any thread.
public enum LogInspector {
    /// What damage at the end of a log is taken for a write torn by a crash (and therefore not
    /// a problem). Recovery uses `anyDamage` for the newest WAL, `strict` for older WALs and
    /// `truncatedOnly` for the manifest.
    public enum TailPolicy: Sendable {
        /// Every damaged byte is a problem.
        case strict
        /// Only a record cut short by the end of the file, or running into a zero-filled end of
        /// the file, is a torn tail.
        case truncatedOnly
        /// A cut-short record, or a final one with a bad checksum or type, is a torn tail.
        case anyDamage

        var readerPolicy: LogReader.TailPolicy {
            switch self {
            case .strict: return .strict
            case .truncatedOnly: return .truncatedOnly
            case .anyDamage: return .anyDamage
            }
        }
    }

    /// One logical record: the offset of its first fragment's header and its reassembled payload.
    public struct Record: Sendable {
        public let offset: Int
        public let payload: [UInt8]
    }

    /// What a scan found besides the records.
    public struct Outcome: Sendable {
        public let fileSize: Int
        public let recordCount: Int
        /// Offset where a tolerated torn tail begins (bytes from there on were dropped).
        public let tornTailOffset: Int?
        /// Damaged regions, each with the offset of the first bad byte found.
        public let problems: [InspectionProblem]
        public let problemsOmitted: Int
        public var isHealthy: Bool { problems.isEmpty && problemsOmitted == 0 }
    }

    /// The size of a log block; damage is skipped up to the next multiple of it.
    public static var blockSize: Int { LogFormat.blockSize }

    /// Reads `path` and calls `body` with each readable record in file order. `name` labels
    /// problems (default: `path`). Throws only if the file cannot be read.
    public static func scan(path: String, name: String? = nil, tailPolicy: TailPolicy,
                            fileSystem: any FileSystem = PosixFileSystem(),
                            _ body: (Record) -> Void) throws(StorageError) -> Outcome {
        let bytes = try fileSystem.readWholeFile(path)
        return scan(bytes: bytes, path: path, name: name ?? path, tailPolicy: tailPolicy, body)
    }

    static func scan(bytes: [UInt8], path: String, name: String, tailPolicy: TailPolicy,
                     _ body: (Record) -> Void) -> Outcome {
        var problems = ProblemCollector(file: name)
        var count = 0
        var torn: Int? = nil
        /// The damaged region being skipped: where it begins and the first error in it.
        var damage: (offset: Int, reason: String)? = nil
        var resume: Int? = 0
        while let q = resume {
            resume = nil
            // Read from `q` with a reader whose offset 0 is q's block start (the framing is
            // aligned to 32 KiB blocks); the bytes of that block before `q` are masked.
            let base = q / LogFormat.blockSize * LogFormat.blockSize
            var view = base == 0 ? bytes : Array(bytes[base...])
            let skip = q - base
            if skip > 0 { maskPrefix(&view, count: skip) }
            var reader = LogReader(fileName: path, bytes: view, tailPolicy: tailPolicy.readerPolicy)
            var failure: StorageError? = nil
            var delivered = 0
            do throws(StorageError) {
                try reader.forEach { record in
                    guard skip == 0 || record.offset >= skip else { return } // the mask itself
                    delivered += 1
                    body(Record(offset: base + record.offset, payload: record.payload))
                }
            } catch let e {
                failure = e
            }
            count += delivered
            if let d = damage, delivered > 0 {
                problems.add(offset: d.offset, "\(d.reason); nothing readable until offset \(q) (\(q - d.offset) bytes skipped)")
                damage = nil
            }
            if damage == nil, let t = reader.tornTailOffset { torn = base + t }
            guard let failure else { break }
            let split = InspectionProblem.split(failure)
            let failedAt = base + (split.offset ?? 0)
            if damage == nil {
                guard problems.problems.count < problems.limit else {
                    problems.add(offset: failedAt, "further damage not examined")
                    break
                }
                damage = (failedAt, split.reason)
            }
            resume = resumePoint(afterDamageAt: failedAt, in: bytes)
        }
        if let d = damage {
            problems.add(offset: d.offset, "\(d.reason); nothing readable after it (\(bytes.count - d.offset) bytes to the end of the file)")
        }
        return Outcome(fileSize: bytes.count, recordCount: count, tornTailOffset: torn,
                       problems: problems.problems, problemsOmitted: problems.omitted)
    }

    /// Where reading resumes after damage whose first bad fragment header is at `offset`: the
    /// first intact FULL or FIRST fragment found by stepping over the bad fragment (by its
    /// length field) and over intact MIDDLE/LAST fragments that continue the damaged record, in
    /// the same block or at a later block boundary. Nil if there is none.
    static func resumePoint(afterDamageAt offset: Int, in bytes: [UInt8]) -> Int? {
        var blockStart = offset / LogFormat.blockSize * LogFormat.blockSize
        var candidate: Int? = nil
        if offset + LogFormat.headerSize <= bytes.count {
            let next = offset + LogFormat.headerSize + (Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8)
            if next <= blockStart + LogFormat.blockSize { candidate = next }
        }
        while true {
            if let c = candidate, let p = firstRecordStart(from: c, blockStart: blockStart, in: bytes) { return p }
            blockStart += LogFormat.blockSize
            guard blockStart < bytes.count else { return nil }
            candidate = blockStart
        }
    }

    /// From `p` inside the block at `blockStart`: steps over intact MIDDLE/LAST fragments and
    /// returns the offset of an intact FULL or FIRST fragment, or nil if the block has none there.
    static func firstRecordStart(from start: Int, blockStart: Int, in bytes: [UInt8]) -> Int? {
        var p = start
        while p + LogFormat.headerSize <= min(bytes.count, blockStart + LogFormat.blockSize), isIntactFragment(at: p, in: bytes) {
            switch LogFormat.RecordType(rawValue: bytes[p + 6]) {
            case .full?, .first?: return p
            default: p += LogFormat.headerSize + (Int(bytes[p + 4]) | Int(bytes[p + 5]) << 8)
            }
        }
        return nil
    }

    /// `LogReader` starts at offset 0 of its bytes and a resumed read must keep the 32 KiB
    /// alignment, so it cannot start in the middle of a block. Instead, in a copy, the block's
    /// first `count` bytes (≥ 7: they hold at least one fragment) are rewritten as one FULL
    /// fragment of the same size, which the reader yields at offset 0 and the caller ignores.
    /// The file itself is never modified.
    static func maskPrefix(_ view: inout [UInt8], count: Int) {
        guard count >= LogFormat.headerSize, count <= min(view.count, LogFormat.blockSize) else { return }
        let length = count - LogFormat.headerSize
        let type = LogFormat.RecordType.full.rawValue
        let crc = Checksum.crc32(view[LogFormat.headerSize..<count], seed: Checksum.crc32([type]))
        var header = ByteWriter(capacity: LogFormat.headerSize)
        header.writeFixed32(crc)
        header.writeFixed16(UInt16(length))
        header.writeU8(type)
        view.replaceSubrange(0..<LogFormat.headerSize, with: header.bytes)
    }

    /// True if a fragment with a known type and a matching CRC lies at `offset`, within its block.
    static func isIntactFragment(at offset: Int, in bytes: [UInt8]) -> Bool {
        guard offset >= 0, offset + LogFormat.headerSize <= bytes.count else { return false }
        let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
        let type = bytes[offset + 6]
        let blockLeft = LogFormat.blockSize - offset % LogFormat.blockSize
        guard LogFormat.RecordType(rawValue: type) != nil, LogFormat.headerSize + length <= blockLeft,
              offset + LogFormat.headerSize + length <= bytes.count else { return false }
        let payload = bytes[(offset + LogFormat.headerSize)..<(offset + LogFormat.headerSize + length)]
        return Checksum.crc32(payload, seed: Checksum.crc32([type])) == decodeFixed32(bytes, at: offset)
    }
}
