/// The point-lookup path through a block: the same search as `BlockIterator.seek` (binary search
/// over the restart points, then a scan), done on raw bytes with one reused key buffer, so that a
/// `get` allocates no iterator and does no reference counting per entry.
///
/// Every read is bounds-checked as in `BlockIterator`: a damaged block yields a corruption error
/// naming the file and block offset, never a trap. `_StorageFuzzHooks` checks that both searches
/// agree on every input.
extension Block {
    /// The first entry whose internal key is ≥ `target` (an encoded internal key): its key,
    /// rebuilt into `key`, and the range of its value in `contents`; nil if every key is smaller.
    func find(_ target: ArraySlice<UInt8>, key: inout [UInt8]) throws(StorageError) -> Range<Int>? {
        var failure: StorageError?
        let found = contents.withUnsafeBufferPointer { buf -> Range<Int>? in
            target.withUnsafeBytes { t -> Range<Int>? in
                do throws(StorageError) { return try find(in: buf, target: t, key: &key) } catch {
                    failure = error
                    return nil
                }
            }
        }
        if let failure { throw failure }
        return found
    }

    private func find(in buf: UnsafeBufferPointer<UInt8>, target t: UnsafeRawBufferPointer,
                      key: inout [UInt8]) throws(StorageError) -> Range<Int>? {
        // Restart points were validated when the block was made: ascending, inside the entries.
        func restart(_ i: Int) -> Int {
            let at = restartsOffset + 4 * i
            return Int(buf[at]) | Int(buf[at + 1]) << 8 | Int(buf[at + 2]) << 16 | Int(buf[at + 3]) << 24
        }
        var lo = 0, hi = restartCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            let off = restart(mid)
            let h = try header(buf, at: off)
            guard h.shared == 0, h.unshared >= InternalKey.trailerSize else { throw corrupt("bad restart entry at \(off)") }
            let k = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[h.delta..<(h.delta + h.unshared)])
            if InternalKey.compareRaw(k, t) < 0 { lo = mid } else { hi = mid - 1 }
        }
        key.removeAll(keepingCapacity: true)
        var off = restart(lo)
        while off < restartsOffset {
            let h = try header(buf, at: off)
            guard h.shared <= key.count else { throw corrupt("entry at \(off) shares \(h.shared) bytes of a \(key.count)-byte key") }
            key.removeSubrange(h.shared...)
            key.append(contentsOf: UnsafeBufferPointer(rebasing: buf[h.delta..<(h.delta + h.unshared)]))
            guard key.count >= InternalKey.trailerSize else {
                throw corrupt("entry at \(off) has a \(key.count)-byte key, shorter than its 8-byte trailer")
            }
            let value = h.delta + h.unshared
            if key.withUnsafeBytes({ InternalKey.compareRaw($0, t) }) >= 0 { return value..<(value + h.valueLength) }
            off = value + h.valueLength
        }
        return nil
    }

    /// The entry header at `offset`, with the checks of `entryHeader(at:)`.
    @inline(__always)
    private func header(_ buf: UnsafeBufferPointer<UInt8>, at offset: Int) throws(StorageError)
        -> (shared: Int, unshared: Int, valueLength: Int, delta: Int) {
        var p = offset
        // `ByteReader.readLength`'s rules: up to 10 bytes, 64 bits, then at most Int32.max.
        func varint() -> Int? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while p < restartsOffset {
                let b = buf[p]
                p += 1
                if shift == 63 && b > 1 { return nil }
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result <= UInt64(Int32.max) ? Int(result) : nil }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }
        guard let shared = varint(), let unshared = varint(), let valueLength = varint() else {
            throw corrupt("bad entry header at \(offset)")
        }
        guard p + unshared + valueLength <= restartsOffset else { throw corrupt("entry at \(offset) overruns the block") }
        return (shared, unshared, valueLength, p)
    }
}

extension InternalKey {
    /// `compare` on raw bytes (both at least 8 bytes long).
    @inline(__always)
    static func compareRaw(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let c = CartStorage.compareRaw(UnsafeRawBufferPointer(rebasing: a[0..<(a.count - trailerSize)]),
                                       UnsafeRawBufferPointer(rebasing: b[0..<(b.count - trailerSize)]))
        if c != 0 { return c }
        let ta = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: a.count - trailerSize, as: UInt64.self))
        let tb = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: b.count - trailerSize, as: UInt64.self))
        return ta > tb ? -1 : (ta < tb ? 1 : 0)
    }
}
