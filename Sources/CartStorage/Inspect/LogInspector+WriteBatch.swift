/// Decoding WAL records (write batches) for inspection.
extension LogInspector {
    /// The header of one WAL record's write batch.
    public struct Batch: Sendable {
        /// Offset of the record in the WAL.
        public let offset: Int
        public let firstSequence: UInt64
        public let count: Int
        public let payloadBytes: Int
        /// Sequence of the last entry (`firstSequence + count - 1`; `firstSequence - 1` if empty).
        public var lastSequence: UInt64 { firstSequence &+ UInt64(count) &- 1 }
    }

    /// Decodes the write batch in `record` of WAL `file`, calling `entries` (if given) with each
    /// entry and its sequence number. Throws a corruption error naming the record's offset if
    /// the payload is malformed or its sequence numbers leave the 56-bit range.
    public static func decodeBatch(_ record: Record, file: String,
                                   entries: ((InspectedEntry) -> Void)? = nil) throws(StorageError) -> Batch {
        let payload = record.payload
        guard payload.count >= WriteBatch.headerSize else {
            throw .corruption(file: file, offset: record.offset,
                              reason: "write batch: payload of \(payload.count) bytes is shorter than its \(WriteBatch.headerSize)-byte header")
        }
        let first = decodeFixed64(payload, at: 0)
        let count = decodeFixed32(payload, at: 8)
        // Checked here so that no sequence arithmetic on file contents can overflow.
        if first > InternalKey.maxSequence || (count > 0 && UInt64(count) - 1 > InternalKey.maxSequence - first) {
            throw .corruption(file: file, offset: record.offset,
                              reason: "write batch: sequence numbers from \(first) for \(count) entries exceed the 56-bit range")
        }
        try WriteBatch.decode(payload, file: file, recordOffset: record.offset) { (sequence, e) throws(StorageError) in
            guard let entries else { return }
            let key = InspectedKey(userKey: Array(e.key), sequence: sequence, kindRaw: e.kind.rawValue)
            entries(InspectedEntry(key: key, value: Array(e.value)))
        }
        return Batch(offset: record.offset, firstSequence: first, count: Int(count), payloadBytes: payload.count)
    }
}
