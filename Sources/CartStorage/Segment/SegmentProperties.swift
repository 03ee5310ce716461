/// What the meta block of a segment records about its contents.
///
/// ```
/// meta := entry_count:varint deletion_count:varint sequence_smallest:varint
///         sequence_largest:varint data_block_count:varint raw_key_bytes:varint
///         raw_value_bytes:varint smallest_key:bytes largest_key:bytes
/// bytes := length:varint byte[length]            // keys are encoded internal keys
/// ```
public struct SegmentProperties: Sendable, Equatable {
    public var entryCount: UInt64 = 0
    public var deletionCount: UInt64 = 0
    public var sequenceSmallest: UInt64 = .max
    public var sequenceLargest: UInt64 = 0
    public var dataBlockCount: UInt64 = 0
    public var rawKeyBytes: UInt64 = 0
    public var rawValueBytes: UInt64 = 0
    /// Smallest and largest encoded internal keys.
    public var smallestKey: [UInt8] = []
    public var largestKey: [UInt8] = []

    public init() {}

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + smallestKey.count + largestKey.count)
        w.writeVarint(entryCount)
        w.writeVarint(deletionCount)
        w.writeVarint(sequenceSmallest)
        w.writeVarint(sequenceLargest)
        w.writeVarint(dataBlockCount)
        w.writeVarint(rawKeyBytes)
        w.writeVarint(rawValueBytes)
        w.writeLengthPrefixed(smallestKey)
        w.writeLengthPrefixed(largestKey)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], file: String, offset: Int) throws(StorageError) -> SegmentProperties {
        var r = ByteReader(bytes)
        var p = SegmentProperties()
        do {
            p.entryCount = try r.readVarint()
            p.deletionCount = try r.readVarint()
            p.sequenceSmallest = try r.readVarint()
            p.sequenceLargest = try r.readVarint()
            p.dataBlockCount = try r.readVarint()
            p.rawKeyBytes = try r.readVarint()
            p.rawValueBytes = try r.readVarint()
            p.smallestKey = Array(try r.readLengthPrefixed())
            p.largestKey = Array(try r.readLengthPrefixed())
        } catch {
            throw .corruption(file: file, offset: offset, reason: "meta block: \(error)")
        }
        guard r.isAtEnd else {
            throw .corruption(file: file, offset: offset, reason: "meta block: \(r.remaining) trailing bytes")
        }
        return p
    }
}
