import Testing
import CartTestSupport
@testable import CartStorage

@Suite("Segments, blocks and bloom filters")
struct SegmentTests {
    static func internalKey(_ s: String, _ seq: UInt64, _ kind: ValueKind = .value) -> [UInt8] {
        InternalKey.encode(userKey: Array(s.utf8)[...], sequence: seq, kind: kind)
    }

    @Test func blockSeekFindsEveryKeyAndGaps() throws {
        var b = BlockBuilder()
        let keys = (0..<500).map { Self.internalKey(String(format6($0 * 2)), 1) }
        for (i, k) in keys.enumerated() { b.add(key: k[...], value: Array("v\(i)".utf8)[...]) }
        let block = try Block(contents: b.finish(), file: "mem", blockOffset: 0)
        let it = BlockIterator(block)
        try it.seekToFirst()
        var n = 0
        while it.isValid { #expect(it.key == keys[n]); try it.next(); n += 1 }
        #expect(n == keys.count)
        for i in stride(from: 0, to: 1000, by: 7) {
            try it.seek(Self.internalKey(format6(i), 5)[...])
            let expected = (i + 1) / 2 * 2 // next even number ≥ i
            if expected < 1000 {
                #expect(it.isValid)
                #expect(InternalKey.userKey(it.key[...]) == Array(format6(expected).utf8)[...])
            } else {
                #expect(!it.isValid)
            }
        }
    }

    @Test func bloomFalsePositiveRateIsAboutOnePercent() {
        let hashes = (0..<10_000).map { Hash64.hash(Array("present-\($0)".utf8)[...]) }
        let filter = BloomFilter.build(hashes: hashes, bitsPerKey: 10)
        for h in hashes { #expect(BloomFilter.mayContain(filter, hash: h)) }
        var falsePositives = 0
        for i in 0..<10_000 where BloomFilter.mayContain(filter, hash: Hash64.hash(Array("absent-\(i)".utf8)[...])) {
            falsePositives += 1
        }
        let rate = Double(falsePositives) / 10_000
        print("bloom false positive rate at 10 bits/key: \(rate)")
        #expect(rate < 0.02)
    }

    @Test(arguments: [nil, Int32(1)] as [Int32?])
    func segmentRoundTrip(zlib: Int32?) throws {
        let dir = TestDirectory("segment\(zlib.map(String.init) ?? "none")")
        defer { dir.remove() }
        var options = SegmentWriter.Options()
        options.blockSize = 1024
        options.zlibLevel = zlib
        let w = try SegmentWriter(fileSystem: PosixFileSystem(), path: dir.file("000001.seg"), options: options)
        var entries: [([UInt8], [UInt8])] = []
        for i in 0..<3000 {
            // Two versions of every third key, a tombstone for every tenth.
            let key = "user:\(format6(i))"
            if i % 3 == 0 { entries.append((Self.internalKey(key, UInt64(10_000 + i)), Array("new-\(i)".utf8))) }
            let kind: ValueKind = i % 10 == 0 ? .deletion : .value
            entries.append((Self.internalKey(key, UInt64(i + 1), kind), kind == .value ? Array(repeating: UInt8(i % 251), count: 40) : []))
        }
        for (k, v) in entries { try w.add(key: k[...], value: v[...]) }
        let props = try w.finish()
        #expect(props.entryCount == UInt64(entries.count))
        let r = try SegmentReader.open(fileSystem: PosixFileSystem(), path: dir.file("000001.seg"), fileNumber: 1)
        #expect(r.properties == props)
        for i in stride(from: 0, to: 3000, by: 13) {
            let key = Array("user:\(format6(i))".utf8)[...]
            let newest = try r.get(key, snapshot: InternalKey.maxSequence)
            if i % 3 == 0 { #expect(newest == .found(Array("new-\(i)".utf8))) }
            else if i % 10 == 0 { #expect(newest == .deleted) }
            else { #expect(newest == .found(Array(repeating: UInt8(i % 251), count: 40))) }
            // At an old snapshot the older version shows through.
            let old = try r.get(key, snapshot: UInt64(i + 1))
            #expect(old == (i % 10 == 0 ? .deleted : .found(Array(repeating: UInt8(i % 251), count: 40))))
            #expect(try r.get(key, snapshot: UInt64(i)) == .notFound)
        }
        #expect(try r.get(Array("user:zzz".utf8)[...], snapshot: 1 << 40) == .notFound)
        let it = r.makeIterator()
        try it.seekToFirst()
        var n = 0
        while it.isValid { #expect(it.key == entries[n].0); try it.next(); n += 1 }
        #expect(n == entries.count)
    }
}

func format6(_ i: Int) -> String {
    let s = String(i)
    return String(repeating: "0", count: max(0, 6 - s.count)) + s
}
