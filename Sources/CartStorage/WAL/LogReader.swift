/// Reads the logical records of a log file (write-ahead log or manifest) held in memory, and
/// decides what a damaged region means.
///
/// Tail policy (RocksDB's `kTolerateCorruptedTailRecords`): when `tolerateTornTail` is set and
/// a bad or incomplete record is followed by no valid record at any later block boundary, the
/// region is a write torn by a crash; reading stops there and `tornTailOffset` says where.
/// Anything else (a bad record with valid data after it, or any damage when the tail is not
/// tolerated) is a `StorageError` naming the file and the byte offset.
struct LogReader {
    struct Record {
        /// Offset of the record's first fragment header.
        let offset: Int
        let payload: [UInt8]
    }

    let fileName: String
    let bytes: [UInt8]
    let tolerateTornTail: Bool

    /// Set after `readAll` if a torn tail was dropped: the offset where valid data ends.
    private(set) var tornTailOffset: Int?

    init(fileName: String, bytes: [UInt8], tolerateTornTail: Bool) {
        self.fileName = fileName
        self.bytes = bytes
        self.tolerateTornTail = tolerateTornTail
    }

    private enum Physical {
        case fragment(type: LogFormat.RecordType, payload: ArraySlice<UInt8>, next: Int)
        case padding(next: Int)
        case end
        case bad(StorageError)
    }

    /// Parses the physical record at `offset`.
    private func physical(at offset: Int) -> Physical {
        let blockLeft = LogFormat.blockSize - offset % LogFormat.blockSize
        if offset >= bytes.count { return .end }
        if blockLeft < LogFormat.headerSize {
            // Block trailer: must be zeros.
            let end = min(offset + blockLeft, bytes.count)
            if bytes[offset..<end].allSatisfy({ $0 == 0 }) { return .padding(next: offset + blockLeft) }
            return .bad(.corruption(file: fileName, offset: offset, reason: "non-zero block trailer"))
        }
        if bytes.count - offset < LogFormat.headerSize {
            return .bad(.corruption(file: fileName, offset: offset, reason: "truncated record header"))
        }
        let storedCRC = decodeFixed32(bytes, at: offset)
        let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
        let rawType = bytes[offset + 6]
        guard let type = LogFormat.RecordType(rawValue: rawType) else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "unknown record type \(rawType)"))
        }
        let payloadStart = offset + LogFormat.headerSize
        guard length <= blockLeft - LogFormat.headerSize else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "record length \(length) crosses a block boundary"))
        }
        guard payloadStart + length <= bytes.count else {
            return .bad(.corruption(file: fileName, offset: offset, reason: "truncated record: \(length) payload bytes declared, \(bytes.count - payloadStart) present"))
        }
        let payload = bytes[payloadStart..<(payloadStart + length)]
        var crc = Checksum.crc32([rawType])
        crc = Checksum.crc32(payload, seed: crc)
        guard crc == storedCRC else {
            return .bad(.checksumMismatch(file: fileName, offset: offset, expected: storedCRC, actual: crc))
        }
        return .fragment(type: type, payload: payload, next: payloadStart + length)
    }

    /// True if any block boundary after `offset` starts a fragment whose CRC is valid: data
    /// was written after the damaged region, so the damage is not a torn tail.
    ///
    /// Known limit: after a power loss with unsynced writes (sync policies `interval`/`none`),
    /// pages of the final unsynced writes can persist out of order; such a log is reported as
    /// corrupt rather than silently truncated.
    private func validRecordAfter(_ offset: Int) -> Bool {
        var b = (offset / LogFormat.blockSize + 1) * LogFormat.blockSize
        while b < bytes.count {
            if case .fragment = physical(at: b) { return true }
            b += LogFormat.blockSize
        }
        return false
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
                    try damaged(at: start, .corruption(file: fileName, offset: start, reason: "record is missing its last fragment"))
                }
                return
            case let .padding(next):
                offset = next
            case let .bad(error):
                try damaged(at: pendingStart ?? offset, error)
                return
            case let .fragment(type, payload, next):
                switch type {
                case .full:
                    if let start = pendingStart {
                        try damaged(at: start, .corruption(file: fileName, offset: offset, reason: "FULL record inside a fragmented record"))
                        return
                    }
                    try body(Record(offset: offset, payload: Array(payload)))
                case .first:
                    if let start = pendingStart {
                        try damaged(at: start, .corruption(file: fileName, offset: offset, reason: "FIRST record inside a fragmented record"))
                        return
                    }
                    pending = Array(payload)
                    pendingStart = offset
                case .middle, .last:
                    guard let start = pendingStart else {
                        try damaged(at: offset, .corruption(file: fileName, offset: offset, reason: "\(type) fragment without FIRST"))
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

    /// Decides between a torn tail (stop quietly) and corruption (throw).
    private mutating func damaged(at offset: Int, _ error: StorageError) throws(StorageError) {
        if tolerateTornTail && !validRecordAfter(offset) {
            tornTailOffset = offset
            return
        }
        throw error
    }
}
