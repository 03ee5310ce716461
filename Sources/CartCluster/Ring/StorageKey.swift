/// How a user key is stored in a node's engine: a namespace byte, the key's ring token
/// (big-endian), then the key's bytes. Ordered by token first, so one range of the ring (a
/// partition: the tokens sharing their top `partitionBits` bits) is one contiguous key range on
/// disk, and handing a partition over, or hashing it for anti-entropy, is one range scan. Other
/// namespaces (hints, node metadata) sort after every data key.
public enum StorageKey {
    /// The namespace byte of user data.
    public static let dataNamespace: UInt8 = 0x00

    /// The stored key of `key`.
    public static func encode(_ key: some Collection<UInt8>) -> [UInt8] {
        let token = RingToken.of(key)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(9 + key.count)
        bytes.append(dataNamespace)
        appendBigEndian(token, to: &bytes)
        bytes.append(contentsOf: key)
        return bytes
    }

    /// The token and user key of a stored data key; nil if `stored` is not one (another
    /// namespace, or fewer than 9 bytes).
    public static func decode(_ stored: ArraySlice<UInt8>) -> (token: UInt64, key: ArraySlice<UInt8>)? {
        guard stored.count >= 9, stored.first == dataNamespace else { return nil }
        var token: UInt64 = 0
        for byte in stored.dropFirst().prefix(8) { token = token << 8 | UInt64(byte) }
        return (token, stored.dropFirst(9))
    }

    /// The stored-key range `[from, to)` of `partition`'s data: from its first token to the next
    /// partition's (for the last partition, to the end of the data namespace).
    public static func range(ofPartition partition: Int, in ring: Ring) -> (from: [UInt8], to: [UInt8]) {
        range(ofTokens: ring.tokenRange(ofPartition: partition))
    }

    /// The stored-key range `[from, to)` of the data whose tokens are in `tokens`.
    public static func range(ofTokens tokens: ClosedRange<UInt64>) -> (from: [UInt8], to: [UInt8]) {
        var from = [dataNamespace]
        appendBigEndian(tokens.lowerBound, to: &from)
        guard tokens.upperBound < UInt64.max else { return (from, [dataNamespace + 1]) }
        var to = [dataNamespace]
        appendBigEndian(tokens.upperBound + 1, to: &to)
        return (from, to)
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
