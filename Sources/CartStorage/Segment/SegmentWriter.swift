/// Writes one segment file from internal keys added in strictly increasing order.
///
/// The file is complete and durable (fdatasync) when `finish` returns; until then it is an
/// orphan that recovery deletes, because no manifest edit names it.
///
/// Invariant, checked on every `add`: keys arrive in strictly increasing internal-key order (a
/// merge over damaged input that breaks it is reported as corruption, never written).
///
/// Not thread-safe: one flush or compaction job owns it.
final class SegmentWriter {
    struct Options: Sendable {
        var blockSize: Int = 16 * 1024
        /// zlib level 1...9, or nil for no compression.
        var zlibLevel: Int32? = 1
        var bloomBitsPerKey: Int = BloomFilter.bitsPerKeyDefault
    }

    let file: any WritableFile
    let fileSystem: any FileSystem
    let options: Options
    private var block = BlockBuilder()
    private var index = BlockBuilder()
    private var bloomHashes: [UInt64] = []
    private var lastUserKey: [UInt8] = []
    /// The last internal key added (for the order check).
    private var lastKey: [UInt8] = []
    private(set) var properties = SegmentProperties()
    private var offset: UInt64 = 0
    private var scratch = ByteWriter(capacity: 32 * 1024)

    init(fileSystem: any FileSystem, path: String, options: Options) throws(StorageError) {
        file = try fileSystem.createFile(path)
        self.fileSystem = fileSystem
        self.options = options
    }

    var path: String { file.path }
    /// Bytes written so far plus the open block.
    var estimatedSize: Int { Int(offset) + block.estimatedSize }

    /// Adds one entry; `key` is an encoded internal key larger than every key added before.
    func add(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) throws(StorageError) {
        guard key.count >= InternalKey.trailerSize else {
            throw .corruption(file: path, offset: estimatedSize, reason: "segment writer: a \(key.count)-byte key has no trailer")
        }
        let userKey = InternalKey.userKey(key)
        if properties.entryCount == 0 {
            properties.smallestKey = Array(key)
        } else if InternalKey.compare(lastKey[...], key) >= 0 {
            throw .corruption(file: path, offset: estimatedSize,
                              reason: "segment writer: key \(InternalKey.describe(key)) does not sort after \(InternalKey.describe(lastKey[...])) (input out of order)")
        }
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: key)
        if properties.entryCount == 0 || userKey != lastUserKey[...] {
            bloomHashes.append(Hash64.hash(userKey))
            lastUserKey.removeAll(keepingCapacity: true)
            lastUserKey.append(contentsOf: userKey)
        }
        let trailer = InternalKey.trailer(key)
        let seq = trailer >> 8
        properties.sequenceSmallest = min(properties.sequenceSmallest, seq)
        properties.sequenceLargest = max(properties.sequenceLargest, seq)
        if UInt8(truncatingIfNeeded: trailer) == ValueKind.deletion.rawValue { properties.deletionCount += 1 }
        properties.entryCount += 1
        properties.rawKeyBytes += UInt64(key.count)
        properties.rawValueBytes += UInt64(value.count)
        block.add(key: key, value: value)
        if block.estimatedSize >= options.blockSize { try flushDataBlock() }
    }

    private func flushDataBlock() throws(StorageError) {
        guard !block.isEmpty else { return }
        let lastKey = block.lastKey
        let contents = block.finish()
        let handle = try writeBlock(contents, compress: options.zlibLevel)
        var h = ByteWriter(capacity: 20)
        handle.encode(into: &h)
        index.add(key: lastKey[...], value: h.bytes[...])
        properties.dataBlockCount += 1
        properties.largestKey = lastKey
    }

    /// Writes `contents` (compressed if that saves ≥ 1/8) followed by its trailer.
    private func writeBlock(_ contents: [UInt8], compress level: Int32?) throws(StorageError) -> BlockHandle {
        scratch.removeAll()
        var type = SegmentFormat.BlockCompression.none
        if let level, contents.count >= 64, let z = Zlib.compress(contents[...], level: level) {
            let storedSize = z.count + ByteWriter.varintSize(UInt64(contents.count))
            if storedSize <= contents.count - contents.count / SegmentFormat.compressionGainMin {
                scratch.writeVarint(UInt64(contents.count))
                scratch.writeBytes(z)
                type = .zlib
            }
        }
        if type == .none { scratch.writeBytes(contents) }
        let size = scratch.count
        var crc = Checksum.crc32(scratch.bytes)
        crc = Checksum.crc32([type.rawValue], seed: crc)
        scratch.writeU8(type.rawValue)
        scratch.writeFixed32(crc)
        try file.append(scratch.bytes)
        let handle = BlockHandle(offset: offset, size: UInt64(size))
        offset += UInt64(scratch.count)
        return handle
    }

    /// Writes filter, meta and index blocks and the footer, then syncs and closes the file.
    func finish() throws(StorageError) -> SegmentProperties {
        try flushDataBlock()
        let filter = try writeBlock(BloomFilter.build(hashes: bloomHashes, bitsPerKey: options.bloomBitsPerKey), compress: nil)
        let meta = try writeBlock(properties.encode(), compress: nil)
        let indexHandle = try writeBlock(index.finish(), compress: nil)
        var f = ByteWriter(capacity: SegmentFormat.footerSize)
        for h in [indexHandle, filter, meta] {
            f.writeFixed64(h.offset)
            f.writeFixed64(h.size)
        }
        f.writeFixed32(SegmentFormat.formatVersion)
        f.writeFixed32(Checksum.crc32(f.bytes))
        f.writeFixed64(SegmentFormat.magic)
        try file.append(f.bytes)
        offset += UInt64(f.count)
        try file.sync()
        file.close()
        return properties
    }

    /// `finish`, then the manifest's record of the new segment `fileNumber` at `level`.
    func finish(level: Int, fileNumber: UInt64) throws(StorageError) -> SegmentMeta {
        let p = try finish()
        return SegmentMeta(level: level, fileNumber: fileNumber, fileSize: fileSize, entryCount: p.entryCount,
                           sequenceSmallest: p.sequenceSmallest, sequenceLargest: p.sequenceLargest,
                           smallestKey: p.smallestKey, largestKey: p.largestKey)
    }

    /// Closes and deletes an unfinished file (an aborted flush or compaction: no manifest edit
    /// names it, so deleting it is safe whatever reached the disk).
    func abandon() {
        file.close()
        try? fileSystem.removeFile(file.path)
    }

    var fileSize: UInt64 { offset }
}
