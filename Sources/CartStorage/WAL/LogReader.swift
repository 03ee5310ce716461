/// Reads the logical records of a log file (write-ahead log or manifest) held in memory, and
/// decides what a damaged region means.
///
/// Tail policy (RocksDB's `kTolerateCorruptedTailRecords`): a bad or incomplete record after
/// whose damaged fragment no later record starts (no intact FULL or FIRST fragment at any later
/// byte of that fragment's block, or at any later block boundary) is a write torn by a crash, if
/// the policy tolerates that kind of damage; reading stops there and `tornTailOffset` says where
/// (the start of the damaged record).
/// Anything else (damage with valid data after it, or damage the policy does not tolerate) is
/// a `StorageError` naming the file and the byte offset.
struct LogReader {
    struct Record {
        /// Offset of the record's first fragment header.
        let offset: Int
        let payload: [UInt8]
    }

    let fileName: String
    let bytes: [UInt8]
    let tailPolicy: TailPolicy

    /// What damage at the end of the file is taken for a torn (never acknowledged) write.
    enum TailPolicy {
        /// None: every damaged byte is an error (older WALs, verification).
        case strict
        /// Only a record cut short by the end of the file, or running into a zero-filled end of
        /// the file (the manifest: its edits are synced before they take effect, so a complete
        /// record with a bad CRC is real corruption; one whose bytes never reached the disk was
        /// never acted on).
        case truncatedOnly
        /// A cut-short record or one with a bad CRC or type (the newest WAL, whose last group
        /// may have been partially written when the process or machine died).
        case anyDamage
    }

    /// Set after `readAll` if a torn tail was dropped: the offset where valid data ends.
    private(set) var tornTailOffset: Int?

    init(fileName: String, bytes: [UInt8], tailPolicy: TailPolicy) {
        self.fileName = fileName
        self.bytes = bytes
        self.tailPolicy = tailPolicy
    }

    private enum Physical {
        case fragment(type: LogFormat.RecordType, payload: ArraySlice<UInt8>, next: Int)
        case padding(next: Int)
        case end
        /// `truncated`: the record runs past the end of the file.
        case bad(StorageError, truncated: Bool)
    }

    /// Parses the physical record at `offset`.
    private func physical(at offset: Int) -> Physical {
        let blockLeft = LogFormat.blockSize - offset % LogFormat.blockSize
        if offset >= bytes.count { return .end }
        if blockLeft < LogFormat.headerSize {
            // Block trailer: must be zeros.
            let end = min(offset + blockLeft, bytes.count)
            if bytes[offset..<end].allSatisfy({ $0 == 0 }) { return .padding(next: offset + blockLeft) }
            return .bad(.corruption(file: fileName, offset: offset, reason: "non-zero block trailer"), truncated: false)
        }
        if bytes.count - offset < LogFormat.headerSize {
            return .bad(.corruption(file: fileName, offset: offset, reason: "truncated record header"), truncated: true)
        }
        let storedCRC = decodeFixed32(bytes, at: offset)
        let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
        let rawType = bytes[offset + 6]
        guard let type = LogFormat.RecordType(rawValue: rawType) else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "unknown record type \(rawType)"), truncated: false)
        }
        let payloadStart = offset + LogFormat.headerSize
        guard length <= blockLeft - LogFormat.headerSize else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "record length \(length) crosses a block boundary"), truncated: false)
        }
        guard payloadStart + length <= bytes.count else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "truncated record: \(length) payload bytes declared, \(bytes.count - payloadStart) present"), truncated: true)
        }
        let payload = bytes[payloadStart..<(payloadStart + length)]
        var crc = Checksum.crc32([rawType])
        crc = Checksum.crc32(payload, seed: crc)
        guard crc == storedCRC else {
            return .bad(.checksumMismatch(file: fileName, offset: offset, expected: storedCRC, actual: crc), truncated: false)
        }
        return .fragment(type: type, payload: payload, next: payloadStart + length)
    }

    /// True if an intact FULL or FIRST fragment (a known type, a length within its block, a
    /// matching CRC) starts anywhere after the damaged fragment at `fragment`: a later record
    /// was written after the damage, so the damage is not a torn tail. Within the damaged
    /// fragment's own block every byte offset after it is tried; later blocks are checked at
    /// their boundaries, where a fragment header always starts. MIDDLE and LAST fragments do not
    /// count: they may be the damaged record's own continuation.
    ///
    /// Known limit: after a power loss with unsynced writes (sync policies `interval`/`none`),
    /// pages of the final unsynced writes can persist out of order; such a log is reported as
    /// corrupt rather than silently truncated.
    private func recordStartsAfter(_ fragment: Int) -> Bool {
        func startsRecord(_ o: Int) -> Bool {
            // Cheap filters first (type byte, length within the block and the file), the CRC last:
            // this runs at every byte offset of a damaged block.
            guard o + LogFormat.headerSize <= bytes.count else { return false }
            let t = bytes[o + 6]
            guard t == LogFormat.RecordType.full.rawValue || t == LogFormat.RecordType.first.rawValue else { return false }
            let length = Int(bytes[o + 4]) | Int(bytes[o + 5]) << 8
            guard length <= LogFormat.blockSize - o % LogFormat.blockSize - LogFormat.headerSize,
                  o + LogFormat.headerSize + length <= bytes.count else { return false }
            if case .fragment = physical(at: o) { return true }
            return false
        }
        let blockEnd = min((fragment / LogFormat.blockSize + 1) * LogFormat.blockSize, bytes.count)
        var o = fragment + 1
        while o + LogFormat.headerSize <= blockEnd {
            if startsRecord(o) { return true }
            o += 1
        }
        var b = blockEnd
        while b < bytes.count {
            if startsRecord(b) { return true }
            b += LogFormat.blockSize
        }
        return false
    }

    /// Where the zero-filled end of the file begins (the file's size if it does not end in 0).
    private var zeroTailStart: Int {
        var z = bytes.count
        while z > 0 && bytes[z - 1] == 0 { z -= 1 }
        return z
    }

    /// True if the damaged fragment at `fragment` runs into a zero-filled end of the file: a
    /// write whose data never reached the disk although the file's size did (a crash before
    /// the sync on file systems that extend first and write later).
    private func runsIntoZeroTail(_ fragment: Int) -> Bool {
        let declaredEnd: Int
        if fragment + LogFormat.headerSize <= bytes.count {
            declaredEnd = fragment + LogFormat.headerSize + (Int(bytes[fragment + 4]) | Int(bytes[fragment + 5]) << 8)
        } else {
            declaredEnd = fragment + LogFormat.headerSize
        }
        return zeroTailStart < declaredEnd
    }

    /// Every logical record in order. Throws on damage that is not a tolerated torn tail.
    mutating func readAll() throws(StorageError) -> [Record] {
        var records: [Record] = []
        try forEach { records.append($0) }
        return records
    }

    /// Calls `body` for each logical record in order (see `readAll`).
    mutating func forEach(_ body: (Record) throws(StorageError) -> Void) throws(StorageError) {
        var offset = 0
        var pending: [UInt8] = []
        var pendingStart: Int? = nil
        tornTailOffset = nil
        while true {
            switch physical(at: offset) {
            case .end:
                if let start = pendingStart {
                    try damaged(record: start, fragment: offset, .corruption(file: fileName, offset: start, reason: "record is missing its last fragment"), truncated: true)
                }
                return
            case let .padding(next):
                offset = next
            case let .bad(error, truncated):
                try damaged(record: pendingStart ?? offset, fragment: offset, error, truncated: truncated)
                return
            case let .fragment(type, payload, next):
                switch type {
                case .full:
                    if let start = pendingStart {
                        try damaged(record: start, fragment: offset, .corruption(file: fileName, offset: offset, reason: "FULL record inside a fragmented record"), truncated: false)
                        return
                    }
                    try body(Record(offset: offset, payload: Array(payload)))
                case .first:
                    if let start = pendingStart {
                        try damaged(record: start, fragment: offset, .corruption(file: fileName, offset: offset, reason: "FIRST record inside a fragmented record"), truncated: false)
                        return
                    }
                    pending = Array(payload)
                    pendingStart = offset
                case .middle, .last:
                    guard let start = pendingStart else {
                        try damaged(record: offset, fragment: offset, .corruption(file: fileName, offset: offset, reason: "\(type) fragment without FIRST"), truncated: false)
                        return
                    }
                    pending.append(contentsOf: payload)
                    if type == .last {
                        try body(Record(offset: start, payload: pending))
                        pending = []
                        pendingStart = nil
                    }
                }
                offset = next
            }
        }
    }

    /// Decides between a torn tail (stop quietly, dropping from `record`, the start of the
    /// damaged logical record) and corruption (throw). `fragment` is the damaged fragment itself.
    private mutating func damaged(record: Int, fragment: Int, _ error: StorageError, truncated: Bool) throws(StorageError) {
        let tolerated: Bool
        switch tailPolicy {
        case .strict: tolerated = false
        case .truncatedOnly: tolerated = truncated || runsIntoZeroTail(fragment)
        case .anyDamage: tolerated = true
        }
        if tolerated && !recordStartsAfter(fragment) {
            tornTailOffset = record
            return
        }
        throw error
    }
}
