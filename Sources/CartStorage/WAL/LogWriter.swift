/// Appends framed records (see `LogFormat`) to a log file: the write-ahead log and the manifest.
///
/// Thread safety: one writer at a time (the engine's write leader, or the manifest owner under
/// the engine lock). `sync` may race with nothing else on the same writer.
final class LogWriter: @unchecked Sendable {
    let file: PosixFile
    let number: UInt64
    /// Offset inside the current block.
    private var blockOffset: Int
    private var scratch: [UInt8] = []

    init(file: PosixFile, number: UInt64) {
        self.file = file
        self.number = number
        self.blockOffset = file.size % LogFormat.blockSize
    }

    var path: String { file.path }
    var size: Int { file.size }

    /// Frames `payload` and writes it with a single `write` call. Not durable until `sync`.
    func addRecord(_ payload: [UInt8]) throws(StorageError) {
        scratch.removeAll(keepingCapacity: true)
        Self.frame(payload[...], blockOffset: &blockOffset, into: &scratch)
        try file.append(scratch)
    }

    func sync() throws(StorageError) { try file.sync() }
    func close() throws(StorageError) { try file.close() }

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
