/// An ordered set of puts and deletes applied atomically: after a crash either every entry of
/// an acknowledged batch is visible or (for an unacknowledged one) none is. Readers never see a
/// batch half-applied.
///
/// Encoding (the payload of one WAL record, see data-format.md "Write batch"):
/// ```
/// batch := sequence:u64le count:u32le entry{count}
/// entry := kind:u8 key_len:varint key (value_len:varint value)?   // value only for kind 1
/// ```
/// Value type: build it on one thread, then hand it to `StorageEngine.write`.
public struct WriteBatch: Sendable {
    /// Largest accepted key, in bytes.
    public static let keyBytesMax = 64 * 1024
    /// Largest accepted value, in bytes.
    public static let valueBytesMax = 64 * 1024 * 1024

    static let headerSize = 8 + 4

    /// Encoded entries (without the header).
    private(set) var entries: ByteWriter
    public private(set) var count: Int = 0
    /// Largest key and value seen, for validation at write time.
    private(set) var keyBytesLargest = 0
    private(set) var valueBytesLargest = 0

    public init() { entries = ByteWriter(capacity: 64) }

    public var isEmpty: Bool { count == 0 }
    /// Encoded size of the entries, in bytes.
    public var byteCount: Int { entries.count }

    public mutating func put<K: Collection, V: Collection>(_ key: K, _ value: V) where K.Element == UInt8, V.Element == UInt8 {
        entries.writeU8(ValueKind.value.rawValue)
        entries.writeLengthPrefixed(key)
        entries.writeLengthPrefixed(value)
        keyBytesLargest = max(keyBytesLargest, key.count)
        valueBytesLargest = max(valueBytesLargest, value.count)
        count += 1
    }

    public mutating func delete<K: Collection>(_ key: K) where K.Element == UInt8 {
        entries.writeU8(ValueKind.deletion.rawValue)
        entries.writeLengthPrefixed(key)
        keyBytesLargest = max(keyBytesLargest, key.count)
        count += 1
    }

    /// Appends all entries of `other`.
    mutating func append(_ other: WriteBatch) {
        entries.writeBytes(other.entries.bytes)
        count += other.count
        keyBytesLargest = max(keyBytesLargest, other.keyBytesLargest)
        valueBytesLargest = max(valueBytesLargest, other.valueBytesLargest)
    }

    func validate() throws(StorageError) {
        if keyBytesLargest > Self.keyBytesMax {
            throw .invalidArgument("key of \(keyBytesLargest) bytes exceeds the limit of \(Self.keyBytesMax)")
        }
        if valueBytesLargest > Self.valueBytesMax {
            throw .invalidArgument("value of \(valueBytesLargest) bytes exceeds the limit of \(Self.valueBytesMax)")
        }
    }

    /// The WAL payload for this batch with its first sequence number.
    func encode(firstSequence: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: Self.headerSize + entries.count)
        w.writeFixed64(firstSequence)
        w.writeFixed32(UInt32(count))
        w.writeBytes(entries.bytes)
        return w.bytes
    }

    /// One decoded entry; slices point into the record payload.
    struct Entry {
        let kind: ValueKind
        let key: ArraySlice<UInt8>
        let value: ArraySlice<UInt8>
    }

    /// Decodes a WAL payload; calls `body` with each entry and its sequence number.
    /// Returns the last sequence number used. Malformed payloads are corruption of `file` at
    /// `recordOffset` (the WAL record's offset).
    @discardableResult
    static func decode(_ payload: [UInt8], file: String, recordOffset: Int,
                       _ body: (UInt64, Entry) throws(StorageError) -> Void) throws(StorageError) -> UInt64 {
        var r = ByteReader(payload)
        func bad(_ why: String) -> StorageError {
            .corruption(file: file, offset: recordOffset, reason: "write batch: \(why) (payload offset \(r.offset))")
        }
        do {
            let first = try r.readFixed64()
            let count = try r.readFixed32()
            // Batches are never empty, and sequences fit 56 bits: anything else is damage.
            guard count > 0 else { throw bad("empty batch") }
            guard first >= 1, first <= InternalKey.maxSequence - UInt64(count) + 1 else {
                throw bad("sequence \(first) + \(count) entries leaves the 56-bit range")
            }
            var seq = first
            for i in 0..<Int(count) {
                let rawKind = try r.readU8()
                guard let kind = ValueKind(rawValue: rawKind) else { throw bad("unknown entry kind \(rawKind)") }
                let key = try r.readLengthPrefixed()
                let value: ArraySlice<UInt8> = kind == .value ? try r.readLengthPrefixed() : []
                try body(seq, Entry(kind: kind, key: key, value: value))
                if i + 1 < Int(count) { seq += 1 }
            }
            guard r.isAtEnd else { throw bad("\(r.remaining) trailing bytes") }
            return seq
        } catch let e as ByteReader.Failure {
            throw bad("truncated (\(e))")
        } catch let e as StorageError {
            throw e
        } catch {
            throw bad("\(error)")
        }
    }
}
