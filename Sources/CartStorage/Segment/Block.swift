/// A decoded (decompressed, checksum-verified) block and the parsing of its entries.
///
/// Every decode is bounds-checked: a block whose CRC matched but whose structure is invalid
/// (a crafted or buggy file) yields a corruption error naming the file and block offset,
/// never a trap.
///
/// Immutable after creation; safe to share between threads (the block cache does).
final class Block: Sendable {
    let contents: [UInt8]
    /// Offset of the restart array inside `contents`.
    let restartsOffset: Int
    let restartCount: Int
    /// File and block offset, for error messages.
    let file: String
    let blockOffset: Int

    init(contents: [UInt8], file: String, blockOffset: Int) throws(StorageError) {
        self.file = file
        self.blockOffset = blockOffset
        guard contents.count >= 4 else {
            throw .corruption(file: file, offset: blockOffset, reason: "block of \(contents.count) bytes has no restart count")
        }
        let n = Int(decodeFixed32(contents, at: contents.count - 4))
        guard n >= 1, n <= (contents.count - 4) / 4 else {
            throw .corruption(file: file, offset: blockOffset, reason: "block restart count \(n) does not fit \(contents.count) bytes")
        }
        let restartsOffset = contents.count - 4 - 4 * n
        // Restart points: the first at 0, then strictly ascending, all before the restart array
        // (an entry before the first restart would otherwise be skipped silently).
        var previous = -1
        for i in 0..<n {
            let p = Int(decodeFixed32(contents, at: restartsOffset + 4 * i))
            guard (i == 0 ? p == 0 : p > previous), p < restartsOffset || (p == 0 && restartsOffset == 0) else {
                throw .corruption(file: file, offset: blockOffset, reason: "block restart \(i) at \(p) is out of order or past the entries")
            }
            previous = p
        }
        self.contents = contents
        self.restartCount = n
        self.restartsOffset = restartsOffset
    }

    func restartPoint(_ i: Int) -> Int { Int(decodeFixed32(contents, at: restartsOffset + 4 * i)) }

    func corrupt(_ why: String) -> StorageError {
        .corruption(file: file, offset: blockOffset, reason: "block: \(why)")
    }

    /// Decoded header of the entry at `offset`: (shared, unshared, valueLength, keyDeltaStart).
    @inline(__always)
    func entryHeader(at offset: Int) throws(StorageError) -> (shared: Int, unshared: Int, valueLength: Int, deltaStart: Int) {
        var r = ByteReader(contents[offset..<restartsOffset])
        do {
            let shared = try r.readLength()
            let unshared = try r.readLength()
            let valueLength = try r.readLength()
            let deltaStart = r.position
            guard deltaStart + unshared + valueLength <= restartsOffset else {
                throw corrupt("entry at \(offset) overruns the block")
            }
            return (shared, unshared, valueLength, deltaStart)
        } catch {
            throw corrupt("bad entry header at \(offset)")
        }
    }
}

/// Walks the entries of one `Block` in order, reconstructing prefix-compressed keys.
final class BlockIterator {
    let block: Block
    /// Offset of the current entry; `restartsOffset` when exhausted.
    private var current: Int
    private var nextOffset: Int
    private(set) var key: [UInt8] = []
    private var valueRange: Range<Int> = 0..<0

    init(_ block: Block) {
        self.block = block
        current = block.restartsOffset
        nextOffset = block.restartsOffset
        key.reserveCapacity(64)
    }

    var isValid: Bool { current < block.restartsOffset }
    var value: ArraySlice<UInt8> { block.contents[valueRange] }

    /// Parses the entry at `nextOffset`, making it current.
    private func parseNext() throws(StorageError) {
        current = nextOffset
        guard current < block.restartsOffset else { return }
        let h = try block.entryHeader(at: current)
        guard h.shared <= key.count else { throw block.corrupt("entry at \(current) shares \(h.shared) bytes of a \(key.count)-byte key") }
        key.removeSubrange(h.shared...)
        key.append(contentsOf: block.contents[h.deltaStart..<(h.deltaStart + h.unshared)])
        guard key.count >= InternalKey.trailerSize else {
            throw block.corrupt("entry at \(current) has a \(key.count)-byte key, shorter than its 8-byte trailer")
        }
        let v = h.deltaStart + h.unshared
        valueRange = v..<(v + h.valueLength)
        nextOffset = v + h.valueLength
    }

    func seekToFirst() throws(StorageError) {
        key.removeAll(keepingCapacity: true)
        nextOffset = block.restartPoint(0)
        try parseNext()
    }

    func next() throws(StorageError) { try parseNext() }

    /// Positions at the first entry whose internal key is ≥ `target`.
    func seek(_ target: ArraySlice<UInt8>) throws(StorageError) {
        var lo = 0, hi = block.restartCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            let off = block.restartPoint(mid)
            guard off < block.restartsOffset else { throw block.corrupt("restart \(mid) points past the entries") }
            let h = try block.entryHeader(at: off)
            guard h.shared == 0, h.unshared >= InternalKey.trailerSize else { throw block.corrupt("bad restart entry at \(off)") }
            let k = block.contents[h.deltaStart..<(h.deltaStart + h.unshared)]
            if InternalKey.compare(k, target) < 0 { lo = mid } else { hi = mid - 1 }
        }
        key.removeAll(keepingCapacity: true)
        nextOffset = block.restartPoint(lo)
        try parseNext()
        while isValid {
            if InternalKey.compare(key[...], target) >= 0 { return }
            try parseNext()
        }
    }
}
