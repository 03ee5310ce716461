import Synchronization

/// Appends framed records (see `LogFormat`) to a log file: the write-ahead log and the manifest.
///
/// Thread safety: one writer at a time calls `addRecord` (the engine's write leader, or the
/// manifest's single writer). `sync` and `close` may come from other threads (the background
/// thread's interval sync, close): a mutex serializes them, so that the descriptor is never
/// closed under a sync in progress; a sync after close is a no-op.
final class LogWriter: Sendable {
    private let file: any WritableFile
    let number: UInt64
    /// Offset inside the current block and a reused framing buffer (the appender's).
    private let appendState: Mutex<(blockOffset: Int, scratch: [UInt8])>
    /// True once closed; held during `sync` and `close`.
    private let closed = Mutex(false)

    init(file: any WritableFile, number: UInt64) {
        self.file = file
        self.number = number
        appendState = Mutex((file.size % LogFormat.blockSize, []))
    }

    var path: String { file.path }
    var size: Int { file.size }

    /// Frames `payload` and writes it with a single `append` call. Not durable until `sync`.
    /// When it throws, any prefix of the framed record may be in the file.
    func addRecord(_ payload: [UInt8]) throws(StorageError) {
        try appendState.withLock { (s: inout (blockOffset: Int, scratch: [UInt8])) throws(StorageError) in
            s.scratch.removeAll(keepingCapacity: true)
            Self.frame(payload[...], blockOffset: &s.blockOffset, into: &s.scratch)
            try file.append(s.scratch)
        }
    }

    /// Makes every record added so far durable. After `close` it does nothing.
    func sync() throws(StorageError) {
        try closed.withLock { (isClosed: inout Bool) throws(StorageError) in
            if !isClosed { try file.sync() }
        }
    }

    /// Closes the file, syncing it first if `sync`. Idempotent.
    func close(sync: Bool) throws(StorageError) {
        try closed.withLock { (isClosed: inout Bool) throws(StorageError) in
            guard !isClosed else { return }
            isClosed = true
            defer { file.close() }
            if sync { try file.sync() }
        }
    }

    /// Appends the physical fragments of one logical record to `out`, starting at `blockOffset`
    /// within a block, and advances `blockOffset`.
    static func frame(_ payload: ArraySlice<UInt8>, blockOffset: inout Int, into out: inout [UInt8]) {
        var rest = payload
        var first = true
        out.reserveCapacity(out.count + payload.count + LogFormat.headerSize * (1 + payload.count / LogFormat.blockSize))
        repeat {
            let leftover = LogFormat.blockSize - blockOffset
            if leftover < LogFormat.headerSize {
                out.append(contentsOf: repeatElement(0, count: leftover))
                blockOffset = 0
            }
            let available = LogFormat.blockSize - blockOffset - LogFormat.headerSize
            let n = min(available, rest.count)
            let last = n == rest.count
            let type: LogFormat.RecordType = first ? (last ? .full : .first) : (last ? .last : .middle)
            let fragment = rest.prefix(n)
            var crc = Checksum.crc32([type.rawValue])
            crc = Checksum.crc32(fragment, seed: crc)
            var w = ByteWriter(capacity: LogFormat.headerSize)
            w.writeFixed32(crc)
            w.writeFixed16(UInt16(n))
            w.writeU8(type.rawValue)
            out.append(contentsOf: w.bytes)
            out.append(contentsOf: fragment)
            blockOffset += LogFormat.headerSize + n
            rest = rest.dropFirst(n)
            first = false
        } while !rest.isEmpty
    }
}
