/// **Benchmark-only.** Entry points into the engine's internal hot paths for the
/// microbenchmarks in `Benchmarks/Micro` (a separate package, which cannot see internal types).
///
/// Not API: no stability promise, may change or disappear with any commit; do not call it from
/// anything but benchmarks. Each function exercises exactly one hot path on the given inputs
/// and returns a value derived from the work, so the optimizer cannot drop it.
///
/// Thread safety: every function is pure apart from its own temporaries; call from any thread.
public enum _StorageBenchmarkHooks {
    /// Inserts `count` puts into a fresh memtable: keys of `keySize` bytes in pseudo-random
    /// order (a 64-bit xorshift value in the first 8 bytes), values of `valueSize` bytes.
    /// Returns the memtable's approximate size in bytes.
    public static func memtableInsert(count: Int, keySize: Int, valueSize: Int) -> Int {
        let table = Memtable()
        var key = [UInt8](repeating: UInt8(ascii: "k"), count: max(keySize, 8))
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueSize)
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in 0..<count {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            key.withUnsafeMutableBytes { $0.storeBytes(of: x.bigEndian, toByteOffset: 0, as: UInt64.self) }
            table.insert(sequence: UInt64(i + 1), kind: .value, key: key[0..<keySize], value: value[...])
        }
        return table.approximateBytes
    }

    /// An encoded internal key (`userKey ++ fixed64_le(sequence << 8 | value kind)`), as stored
    /// in blocks; input for `buildBlock` and `compareInternalKeys`.
    public static func internalKey(userKey: [UInt8], sequence: UInt64) -> [UInt8] {
        InternalKey.encode(userKey: userKey[...], sequence: sequence, kind: .value)
    }

    /// The uncompressed contents of one data block holding `keys` (encoded internal keys in
    /// increasing internal-key order, see `internalKey`) with `values`, paired in order (extra
    /// elements of the longer array are ignored).
    public static func buildBlock(keys: [[UInt8]], values: [[UInt8]]) -> [UInt8] {
        var builder = BlockBuilder()
        for (k, v) in zip(keys, values) { builder.add(key: k[...], value: v[...]) }
        return builder.finish()
    }

    /// Parses block `contents` (from `buildBlock`) and walks every entry, rebuilding each
    /// prefix-compressed key. Returns the number of entries plus the total value bytes.
    public static func decodeBlock(_ contents: [UInt8]) throws(StorageError) -> Int {
        let block = try Block(contents: contents, file: "<benchmark>", blockOffset: 0)
        let it = BlockIterator(block)
        try it.seekToFirst()
        var n = 0
        while it.isValid {
            n += 1 + it.value.count
            try it.next()
        }
        return n
    }

    /// Seeks a block iterator to each of `targets` (encoded internal keys); returns how many
    /// landed on an entry.
    public static func seekBlock(_ contents: [UInt8], targets: [[UInt8]]) throws(StorageError) -> Int {
        let block = try Block(contents: contents, file: "<benchmark>", blockOffset: 0)
        let it = BlockIterator(block)
        var hits = 0
        for t in targets {
            try it.seek(t[...])
            if it.isValid { hits += 1 }
        }
        return hits
    }

    /// A bloom filter over `keys` as segments build it (`bitsPerKey` bits per key).
    public static func bloomFilter(keys: [[UInt8]], bitsPerKey: Int = 10) -> [UInt8] {
        BloomFilter.build(hashes: keys.map { Hash64.hash($0[...]) }, bitsPerKey: bitsPerKey)
    }

    /// Probes `filter` (from `bloomFilter`) for each of `keys` as a point read does (hash, then
    /// probe); returns how many may be present.
    public static func bloomProbe(filter: [UInt8], keys: [[UInt8]]) -> Int {
        var maybe = 0
        for k in keys where BloomFilter.mayContain(filter, hash: Hash64.hash(k[...])) { maybe += 1 }
        return maybe
    }

    /// CRC-32 of `bytes`, as every block, record and footer is checked.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        Checksum.crc32(bytes)
    }

    /// The internal-key order (user key ascending, then sequence descending): -1, 0 or 1.
    /// Both keys must be encoded internal keys (at least 8 bytes).
    public static func compareInternalKeys(_ a: [UInt8], _ b: [UInt8]) -> Int {
        InternalKey.compare(a[...], b[...])
    }
}
