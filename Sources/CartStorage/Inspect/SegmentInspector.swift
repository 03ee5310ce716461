/// Reads one segment file piece by piece, for `cartstore-dump segment` and for verification:
/// the footer (raw fields and whether the engine would accept it), the meta block, the bloom
/// filter, the index and each data block with its compression and checksum.
///
/// Invariants: the file is opened read-only and never written or locked; every structure is
/// decoded through the engine's own readers (`SegmentReader.readFooter/readBlock`, `Block`,
/// `BlockIterator`), so what this reports is what the engine would see. Nothing that the file's
/// bytes contain can trap: damage is returned as a `StorageError` or recorded in a report.
/// Block handles are used only after the footer or index entry holding them passed its checks.
///
/// Thread safety: not thread-safe; one inspector belongs to one thread.
public final class SegmentInspector {
    /// Where a block lives: `size` excludes the 5-byte trailer (type + crc32).
    public struct Handle: Sendable, Equatable, CustomStringConvertible {
        public let offset: UInt64
        public let size: UInt64

        public init(offset: UInt64, size: UInt64) {
            self.offset = offset
            self.size = size
        }

        var blockHandle: BlockHandle { BlockHandle(offset: offset, size: size) }
        /// First byte after the block's trailer. Only for handles that passed the footer's or
        /// the index's bounds checks (the sum of arbitrary values could overflow).
        var end: UInt64 { offset + size + UInt64(SegmentFormat.blockTrailerSize) }
        public var description: String { "offset \(offset) size \(size)" }
    }

    /// The 64-byte footer as stored, and whether it is valid.
    public struct Footer: Sendable {
        /// File offset of the footer (file size − 64).
        public let offset: Int
        public let indexHandle: Handle
        public let filterHandle: Handle
        public let metaHandle: Handle
        public let formatVersion: UInt32
        public let storedChecksum: UInt32
        /// crc32 of the footer's first 52 bytes.
        public let computedChecksum: UInt32
        public let magic: UInt64
        /// Why the engine would refuse this footer (bad magic, checksum, version, handle); nil
        /// if it is valid. The handles may be used only when this is nil.
        public let error: StorageError?

        public var magicMatches: Bool { magic == SegmentFormat.magic }
        public var checksumMatches: Bool { storedChecksum == computedChecksum }
    }

    /// The bloom filter block.
    public struct FilterInfo: Sendable {
        /// Size of the bit array in bytes (the block minus its final probe-count byte).
        public let bitArrayBytes: Int
        public let probes: Int
        /// True if the engine would use the filter (at least 2 bytes, 1...30 probes); a
        /// malformed filter is ignored by readers (they consult the data instead).
        public let isWellFormed: Bool
    }

    /// One index entry: the largest internal key of a data block and the block's handle.
    public struct IndexEntry: Sendable {
        /// Encoded internal key.
        public let lastKey: [UInt8]
        /// Nil if the entry's value is not a valid handle inside the data region.
        public let handle: Handle?
        /// Why `handle` is nil.
        public let handleProblem: String?
    }

    /// The decoded index block.
    public struct Index: Sendable {
        public let entries: [IndexEntry]
        public let restartCount: Int
        /// Set if the index block cannot be read or parsed; `entries` holds what came before.
        public let error: StorageError?
    }

    /// What one block's trailer, checksum and contents say.
    public struct BlockReport: Sendable {
        public let handle: Handle
        /// The trailer's type byte (nil if the trailer could not be read).
        public let compressionRaw: UInt8?
        public let storedChecksum: UInt32?
        /// crc32 over contents ++ type, as computed now (nil if not read).
        public let computedChecksum: UInt32?
        /// Size of the contents after decompression (nil if not decodable).
        public let uncompressedSize: Int?
        public let entryCount: Int
        public let restartCount: Int?
        /// Nil if the block is intact and every entry parsed.
        public let error: StorageError?

        public var checksumMatches: Bool {
            guard let s = storedChecksum, let c = computedChecksum else { return false }
            return s == c
        }

        /// "none", "zlib", or "unknown(n)".
        public var compressionName: String {
            guard let raw = compressionRaw else { return "?" }
            switch SegmentFormat.BlockCompression(rawValue: raw) {
            case .none?: return "none"
            case .zlib?: return "zlib"
            case nil: return "unknown(\(raw))"
            }
        }
    }

    public let path: String
    public let fileSize: Int
    let file: any ReadableFile

    /// Opens `path` read-only. Throws `.io` if it cannot be opened.
    public init(path: String, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) {
        self.path = path
        file = try fileSystem.openForReading(path)
        fileSize = file.size
    }

    /// The size of the fixed footer, in bytes.
    public static var footerSize: Int { SegmentFormat.footerSize }
    /// The segment format version this build writes and the newest it reads.
    public static var formatVersion: UInt32 { SegmentFormat.formatVersion }
    /// The magic number at the end of every segment.
    public static var magic: UInt64 { SegmentFormat.magic }

    /// Reads the footer. Throws only if the file is shorter than a footer or cannot be read;
    /// a damaged footer is returned with `error` set.
    public func readFooter() throws(StorageError) -> Footer {
        guard fileSize >= SegmentFormat.footerSize else {
            throw .corruption(file: path, offset: 0,
                              reason: "file of \(fileSize) bytes is shorter than the \(SegmentFormat.footerSize)-byte footer (not a segment)")
        }
        let at = fileSize - SegmentFormat.footerSize
        let b = try file.read(at: at, count: SegmentFormat.footerSize)
        func handle(_ i: Int) -> Handle {
            Handle(offset: decodeFixed64(b, at: i * 16), size: decodeFixed64(b, at: i * 16 + 8))
        }
        var error: StorageError? = nil
        do throws(StorageError) { _ = try SegmentReader.readFooter(file) } catch let e { error = e }
        return Footer(offset: at, indexHandle: handle(0), filterHandle: handle(1), metaHandle: handle(2),
                      formatVersion: decodeFixed32(b, at: 48), storedChecksum: decodeFixed32(b, at: 52),
                      computedChecksum: Checksum.crc32(b[0..<52]), magic: decodeFixed64(b, at: 56), error: error)
    }

    /// The meta block's properties. Throws if the footer is invalid or the block is damaged.
    public func readProperties(_ footer: Footer) throws(StorageError) -> SegmentProperties {
        if let e = footer.error { throw e }
        let contents = try SegmentReader.readBlockContents(file, footer.metaHandle.blockHandle)
        return try SegmentProperties.decode(contents, file: path, offset: Int(footer.metaHandle.offset))
    }

    /// The filter block's shape. Throws if the footer is invalid or the block is damaged.
    public func readFilter(_ footer: Footer) throws(StorageError) -> FilterInfo {
        let bytes = try filterBytes(footer)
        let probes = bytes.last.map(Int.init) ?? 0
        return FilterInfo(bitArrayBytes: max(0, bytes.count - 1), probes: probes,
                          isWellFormed: bytes.count >= 2 && (1...30).contains(probes))
    }

    func filterBytes(_ footer: Footer) throws(StorageError) -> [UInt8] {
        if let e = footer.error { throw e }
        return try SegmentReader.readBlockContents(file, footer.filterHandle.blockHandle)
    }

    /// Every index entry in order. A damaged index block or entry is reported in `error`.
    public func readIndex(_ footer: Footer) -> Index {
        if let e = footer.error { return Index(entries: [], restartCount: 0, error: e) }
        let block: Block
        do throws(StorageError) { block = try SegmentReader.readBlock(file, footer.indexHandle.blockHandle) } catch let e {
            return Index(entries: [], restartCount: 0, error: e)
        }
        var entries: [IndexEntry] = []
        let it = BlockIterator(block)
        do throws(StorageError) {
            try it.seekToFirst()
            while it.isValid {
                entries.append(indexEntry(key: it.key, value: it.value, dataEnd: footer.filterHandle.offset))
                try it.next()
            }
        } catch let e {
            return Index(entries: entries, restartCount: block.restartCount, error: e)
        }
        return Index(entries: entries, restartCount: block.restartCount, error: nil)
    }

    /// Decodes an index value (`offset:varint size:varint`), checking it lies in the data region
    /// `[0, dataEnd)` trailer included.
    private func indexEntry(key: [UInt8], value: ArraySlice<UInt8>, dataEnd: UInt64) -> IndexEntry {
        var r = ByteReader(value)
        guard let off = try? r.readVarint(), let size = try? r.readVarint() else {
            return IndexEntry(lastKey: key, handle: nil, handleProblem: "index value is not two varints")
        }
        let trailer = UInt64(SegmentFormat.blockTrailerSize)
        guard off <= dataEnd, size <= dataEnd - off, trailer <= dataEnd - off - size else {
            return IndexEntry(lastKey: key, handle: nil,
                              handleProblem: "handle offset \(off) size \(size) lies outside the data region [0, \(dataEnd))")
        }
        return IndexEntry(lastKey: key, handle: Handle(offset: off, size: size), handleProblem: nil)
    }

    /// Reads, checks and decodes one block, calling `entries` (if given) with each entry.
    /// Never throws: damage is in the report's `error`.
    public func inspectBlock(_ handle: Handle, entries: ((InspectedEntry) -> Void)? = nil) -> BlockReport {
        scanBlock(handle) { (key, value) throws(StorageError) in
            guard let entries else { return }
            guard let k = InspectedKey(encoded: key) else {
                throw .corruption(file: path, offset: Int(handle.offset),
                                  reason: "entry key of \(key.count) bytes is shorter than its 8-byte trailer")
            }
            entries(InspectedEntry(key: k, value: Array(value)))
        }
    }

    /// `inspectBlock` with the raw encoded key and value; `body` may throw to stop with an error.
    func scanBlock(_ handle: Handle,
                   _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) throws(StorageError) -> Void) -> BlockReport {
        guard handle.offset <= UInt64(fileSize), handle.size <= UInt64(fileSize) - handle.offset,
              UInt64(SegmentFormat.blockTrailerSize) <= UInt64(fileSize) - handle.offset - handle.size else {
            let e = StorageError.corruption(file: path, offset: Int(clamping: handle.offset),
                                            reason: "block \(handle) runs past the end of the \(fileSize)-byte file")
            return BlockReport(handle: handle, compressionRaw: nil, storedChecksum: nil, computedChecksum: nil,
                               uncompressedSize: nil, entryCount: 0, restartCount: nil, error: e)
        }
        var type: UInt8? = nil, stored: UInt32? = nil, computed: UInt32? = nil
        var size: Int? = nil, restarts: Int? = nil, count = 0
        var failure: StorageError? = nil
        do throws(StorageError) {
            let trailer = try file.read(at: Int(handle.offset + handle.size), count: SegmentFormat.blockTrailerSize)
            type = trailer[0]
            stored = decodeFixed32(trailer, at: 1)
            let block: Block
            do throws(StorageError) {
                block = try SegmentReader.readBlock(file, handle.blockHandle)
            } catch let e {
                switch e {
                case let .checksumMismatch(_, _, _, actual): computed = actual
                case .corruption: computed = stored // the CRC matched; the contents are malformed
                default: break
                }
                throw e
            }
            computed = stored
            size = block.contents.count
            restarts = block.restartCount
            let it = BlockIterator(block)
            try it.seekToFirst()
            while it.isValid {
                try body(it.key[...], it.value)
                count += 1
                try it.next()
            }
        } catch let e {
            failure = e
        }
        return BlockReport(handle: handle, compressionRaw: type, storedChecksum: stored, computedChecksum: computed,
                           uncompressedSize: size, entryCount: count, restartCount: restarts, error: failure)
    }
}
