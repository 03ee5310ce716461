/// Read access to one immutable segment file: point lookups through its bloom filter and
/// index, and ordered iteration.
///
/// Opening reads and verifies the footer (magic, version, CRC), then the index, filter and meta
/// blocks (each CRC-checked) and keeps them in memory. Data blocks are read with `pread` and
/// checked against their CRC on every read: a damaged block fails only the reads that touch it.
///
/// Thread safety: immutable after `open`; every method may be called from any thread.
final class SegmentReader: Sendable {
    let path: String
    let fileNumber: UInt64
    let fileSize: Int
    let properties: SegmentProperties
    private let file: any ReadableFile
    private let index: Block
    private let filter: [UInt8]
    let cache: BlockCache?

    struct Footer {
        var index: BlockHandle
        var filter: BlockHandle
        var meta: BlockHandle
        var formatVersion: UInt32
    }

    private init(path: String, fileNumber: UInt64, file: any ReadableFile, index: Block, filter: [UInt8],
                 properties: SegmentProperties, cache: BlockCache?) {
        self.path = path
        self.fileNumber = fileNumber
        self.file = file
        self.fileSize = file.size
        self.index = index
        self.filter = filter
        self.properties = properties
        self.cache = cache
    }

    /// Opens and verifies the segment; the reader holds its descriptor until released.
    static func open(fileSystem: any FileSystem, path: String, fileNumber: UInt64,
                     cache: BlockCache? = nil) throws(StorageError) -> SegmentReader {
        let file = try fileSystem.openForReading(path)
        let footer = try readFooter(file)
        let index = try readBlock(file, footer.index)
        let filter = try readBlockContents(file, footer.filter)
        let meta = try readBlockContents(file, footer.meta)
        let properties = try SegmentProperties.decode(meta, file: path, offset: Int(footer.meta.offset))
        return SegmentReader(path: path, fileNumber: fileNumber, file: file, index: index, filter: filter,
                             properties: properties, cache: cache)
    }

    static func readFooter(_ file: any ReadableFile) throws(StorageError) -> Footer {
        let size = file.size
        guard size >= SegmentFormat.footerSize else {
            throw .corruption(file: file.path, offset: 0, reason: "file of \(size) bytes is shorter than the \(SegmentFormat.footerSize)-byte footer")
        }
        let at = size - SegmentFormat.footerSize
        let b = try file.read(at: at, count: SegmentFormat.footerSize)
        let magic = decodeFixed64(b, at: 56)
        guard magic == SegmentFormat.magic else {
            throw .corruption(file: file.path, offset: at + 56, reason: "bad magic 0x\(String(magic, radix: 16)) (not a CartStore segment)")
        }
        let stored = decodeFixed32(b, at: 52)
        let actual = Checksum.crc32(b[0..<52])
        guard stored == actual else { throw .checksumMismatch(file: file.path, offset: at, expected: stored, actual: actual) }
        let version = decodeFixed32(b, at: 48)
        guard version >= 1 && version <= SegmentFormat.formatVersion else {
            throw .unsupportedFormat(file: file.path, version: version, supported: SegmentFormat.formatVersion)
        }
        func handle(_ i: Int) throws(StorageError) -> BlockHandle {
            let h = BlockHandle(offset: decodeFixed64(b, at: i * 16), size: decodeFixed64(b, at: i * 16 + 8))
            guard h.offset <= UInt64(at), h.size <= UInt64(at) - h.offset,
                  h.offset + h.size + UInt64(SegmentFormat.blockTrailerSize) <= UInt64(at) else {
                throw .corruption(file: file.path, offset: at + i * 16, reason: "footer handle \(h) outside the file")
            }
            return h
        }
        return Footer(index: try handle(0), filter: try handle(1), meta: try handle(2), formatVersion: version)
    }

    /// Reads, checks and decompresses one block in the keyed block format (data and index).
    static func readBlock(_ file: any ReadableFile, _ h: BlockHandle) throws(StorageError) -> Block {
        try Block(contents: try readBlockContents(file, h), file: file.path, blockOffset: Int(h.offset))
    }

    /// Reads one block's contents (any block kind), checking its CRC and decompressing it.
    static func readBlockContents(_ file: any ReadableFile, _ h: BlockHandle) throws(StorageError) -> [UInt8] {
        let size = Int(h.size), offset = Int(h.offset)
        let raw = try file.read(at: offset, count: size + SegmentFormat.blockTrailerSize)
        let type = raw[size]
        let stored = decodeFixed32(raw, at: size + 1)
        let actual = Checksum.crc32(raw[0..<(size + 1)])
        guard stored == actual else {
            throw .checksumMismatch(file: file.path, offset: offset, expected: stored, actual: actual)
        }
        switch SegmentFormat.BlockCompression(rawValue: type) {
        case .none?:
            var contents = raw
            contents.removeLast(SegmentFormat.blockTrailerSize) // in place: no copy
            return contents
        case .zlib?:
            var r = ByteReader(raw[0..<size])
            guard let rawSize = try? r.readLength(limit: 256 * 1024 * 1024),
                  let contents = Zlib.decompress(raw[r.position..<size], rawSize: rawSize) else {
                throw .corruption(file: file.path, offset: offset, reason: "zlib block does not decompress")
            }
            return contents
        case nil:
            throw .corruption(file: file.path, offset: offset, reason: "unknown block compression type \(type)")
        }
    }

    /// A data block, from the cache when present.
    func dataBlock(_ h: BlockHandle) throws(StorageError) -> Block {
        if let cache, let b = cache.get(fileNumber: fileNumber, offset: h.offset) { return b }
        let b = try Self.readBlock(file, h)
        cache?.insert(fileNumber: fileNumber, offset: h.offset, block: b, charge: b.contents.count)
        return b
    }

    func decodeHandle(_ value: ArraySlice<UInt8>) throws(StorageError) -> BlockHandle {
        try Self.decodeHandle(value, fileSize: fileSize, path: path, indexOffset: index.blockOffset)
    }

    /// An index entry's value (`offset:varint size:varint`, nothing after) as a data block
    /// handle; the block and its trailer must lie before the footer, as the footer's own
    /// handles do. Errors name the index block's offset.
    static func decodeHandle(_ value: ArraySlice<UInt8>, fileSize: Int, path: String, indexOffset: Int) throws(StorageError) -> BlockHandle {
        var r = ByteReader(value)
        let dataEnd = UInt64(max(0, fileSize - SegmentFormat.footerSize))
        guard let off = try? r.readVarint(), let size = try? r.readVarint(), r.isAtEnd,
              off <= dataEnd, size <= dataEnd - off, UInt64(SegmentFormat.blockTrailerSize) <= dataEnd - off - size else {
            throw .corruption(file: path, offset: indexOffset, reason: "index entry holds a bad block handle")
        }
        return BlockHandle(offset: off, size: size)
    }

    /// True if the bloom filter allows `userKey`.
    func mayContain(_ userKey: ArraySlice<UInt8>) -> Bool {
        BloomFilter.mayContain(filter, hash: Hash64.hash(userKey))
    }

    /// The newest version of `userKey` with sequence ≤ `snapshot`.
    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        guard mayContain(userKey) else { return .notFound }
        let target = InternalKey.seekKey(userKey: userKey, sequence: snapshot)
        var key: [UInt8] = []
        key.reserveCapacity(userKey.count + 2 * InternalKey.trailerSize)
        guard let handle = try index.find(target[...], key: &key) else { return .notFound }
        let block = try dataBlock(try decodeHandle(index.contents[handle]))
        guard let value = try block.find(target[...], key: &key), InternalKey.userKey(key[...]) == userKey else { return .notFound }
        let kind = UInt8(truncatingIfNeeded: InternalKey.trailer(key[...]))
        if kind == ValueKind.deletion.rawValue { return .deleted }
        return .found(Array(block.contents[value]))
    }

    func makeIterator() -> SegmentIterator { SegmentIterator(self, index: index) }

    /// Handles of every data block, in order (for verification and the dump tool).
    func dataBlockHandles() throws(StorageError) -> [(lastKey: [UInt8], handle: BlockHandle)] {
        let it = BlockIterator(index)
        try it.seekToFirst()
        var out: [(lastKey: [UInt8], handle: BlockHandle)] = []
        while it.isValid {
            out.append((it.key, try decodeHandle(it.value)))
            try it.next()
        }
        return out
    }
}

/// Iterates a segment's entries in internal-key order (a two-level iterator: index, then data).
final class SegmentIterator: InternalIterator {
    private let segment: SegmentReader
    private let indexIt: BlockIterator
    private var dataIt: BlockIterator?

    init(_ segment: SegmentReader, index: Block) {
        self.segment = segment
        self.indexIt = BlockIterator(index)
    }

    var isValid: Bool { dataIt?.isValid ?? false }
    var key: [UInt8] { dataIt?.key ?? [] }
    var value: ArraySlice<UInt8> { dataIt?.value ?? [] }

    private func loadBlock() throws(StorageError) {
        guard indexIt.isValid else { dataIt = nil; return }
        dataIt = BlockIterator(try segment.dataBlock(try segment.decodeHandle(indexIt.value)))
    }

    /// Moves forward over exhausted blocks.
    private func skipEmpty() throws(StorageError) {
        while let d = dataIt, !d.isValid {
            try indexIt.next()
            try loadBlock()
            try dataIt?.seekToFirst()
        }
    }

    func seekToFirst() throws(StorageError) {
        try indexIt.seekToFirst()
        try loadBlock()
        try dataIt?.seekToFirst()
        try skipEmpty()
    }

    func seek(_ target: ArraySlice<UInt8>) throws(StorageError) {
        try indexIt.seek(target)
        try loadBlock()
        try dataIt?.seek(target)
        try skipEmpty()
    }

    func next() throws(StorageError) {
        try dataIt?.next()
        try skipEmpty()
    }
}
