/// Builds the uncompressed contents of one block from keys added in increasing order.
///
/// ```
/// contents := entry* restart:u32le{num_restarts} num_restarts:u32le
/// entry    := shared:varint unshared:varint value_len:varint key_delta[unshared] value[value_len]
/// ```
/// Every `SegmentFormat.restartInterval`-th entry is a restart point: it stores its whole key
/// (`shared` = 0) and its offset is listed in the restart array, so readers binary-search it.
struct BlockBuilder {
    private var buffer = ByteWriter(capacity: 16 * 1024 + 1024)
    private var restarts: [UInt32] = [0]
    private var counter = 0
    private(set) var lastKey: [UInt8] = []
    private(set) var entryCount = 0

    var isEmpty: Bool { entryCount == 0 }
    /// Size of the contents `finish` would return.
    var estimatedSize: Int { buffer.count + restarts.count * 4 + 4 }

    mutating func add(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        var shared = 0
        if counter < SegmentFormat.restartInterval {
            let n = min(lastKey.count, key.count)
            var i = key.startIndex
            while shared < n && lastKey[shared] == key[i] { shared += 1; i += 1 }
        } else {
            restarts.append(UInt32(buffer.count))
            counter = 0
        }
        buffer.writeVarint(UInt64(shared))
        buffer.writeVarint(UInt64(key.count - shared))
        buffer.writeVarint(UInt64(value.count))
        buffer.writeBytes(key.dropFirst(shared))
        buffer.writeBytes(value)
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: key)
        counter += 1
        entryCount += 1
    }

    /// The finished contents; the builder is reset for the next block.
    mutating func finish() -> [UInt8] {
        for r in restarts { buffer.writeFixed32(r) }
        buffer.writeFixed32(UInt32(restarts.count))
        let out = buffer.bytes
        buffer.removeAll()
        restarts = [0]
        counter = 0
        entryCount = 0
        lastKey.removeAll(keepingCapacity: true)
        return out
    }
}
