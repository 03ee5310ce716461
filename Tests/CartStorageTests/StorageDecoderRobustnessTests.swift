import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// The bounded, seeded counterpart of the `CartStorageFuzz` libFuzzer target: valid inputs for
/// each of the engine's decoders (written by the real encoders), then thousands of mutations of
/// them (bit flips, overwritten and zeroed ranges, truncations, insertions, duplications). Every
/// input must decode or fail with a `StorageError` naming an offset inside it, never trap.
///
/// `CARTSTORE_STORAGE_FUZZ_CORPUS=DIR swift test --filter StorageDecoderRobustness` writes the
/// valid inputs to DIR as a starting corpus for the fuzzer (each prefixed with its decoder byte).
@Suite("Storage decoder robustness")
struct StorageDecoderRobustnessTests {
    typealias Decoder = _StorageFuzzHooks.Decoder

    /// Valid inputs per decoder, from the engine's own writers.
    static func seeds() throws -> [Decoder: [[UInt8]]] {
        var out: [Decoder: [[UInt8]]] = [:]
        var r = SeededRandom(seed: 99)

        // Log framing: small records and one spanning three blocks.
        var log: [UInt8] = []
        var blockOffset = 0
        for size in [0, 10, 200, 33_000, 70_000, 5] {
            LogWriter.frame(r.bytes(size)[...], blockOffset: &blockOffset, into: &log)
        }
        out[.logFile] = [log]

        // Write batches.
        var batch = WriteBatch()
        for i in 0..<20 {
            if i % 4 == 3 { batch.delete(Array("key-\(i)".utf8)) } else { batch.put(Array("key-\(i)".utf8), r.bytes(r.below(40))) }
        }
        out[.writeBatch] = [batch.encode(firstSequence: 7)]

        // A block of 40 entries (three restart points), and an empty one.
        var builder = BlockBuilder()
        for i in 0..<40 {
            builder.add(key: InternalKey.encode(userKey: Array("key-\(format6(i))".utf8)[...], sequence: UInt64(100 - i), kind: .value)[...],
                        value: r.bytes(r.below(30))[...])
        }
        var empty = BlockBuilder()
        out[.block] = [builder.finish(), empty.finish()]

        var handle = ByteWriter(capacity: 20)
        BlockHandle(offset: 100, size: 2000).encode(into: &handle)
        out[.indexEntry] = [handle.bytes]

        // Real segments (compressed and not), from an engine on a memory file system.
        let fs = MemoryFileSystem()
        try fs.createDirectory("/db")
        var o = StorageOptions()
        o.fileSystem = fs
        o.backgroundMode = .manual
        o.blockBytes = 512
        o.logger.logLevel = .critical
        let e = try StorageEngine.open("/db", options: o)
        for i in 0..<300 { try e.put(Array("cart:\(format6(i))".utf8), Array("value \(i) \(String(repeating: "x", count: i % 50))".utf8)) }
        for i in stride(from: 0, to: 300, by: 7) { try e.delete(Array("cart:\(format6(i))".utf8)) }
        try e.flush()
        var segments: [[UInt8]] = []
        for info in e.liveSegments() { segments.append(fs.contents(of: "/db/" + FileNames.segment(info.fileNumber)) ?? []) }
        try e.close()
        o.compression = .none
        let e2 = try StorageEngine.open("/db", options: o)
        for i in 0..<100 { try e2.put(Array("z\(i)".utf8), Array("v\(i)".utf8)) }
        try e2.flush()
        try e2.put(Array("pending".utf8), Array("1".utf8))
        let manifestName = FileNames.manifest(e2.core.manifest.number)
        for info in e2.liveSegments() { segments.append(fs.contents(of: "/db/" + FileNames.segment(info.fileNumber)) ?? []) }
        let wal = fs.contents(of: "/db/" + FileNames.wal(e2.core.wal.number)) ?? []
        try e2.close()
        out[.segmentFile] = segments
        out[.footer] = segments
        out[.manifestFile] = [fs.contents(of: "/db/" + manifestName) ?? []]
        out[.logFile, default: []].append(wal)

        let reader = try SegmentReader.open(fileSystem: fs, path: "/db/" + FileNames.segment(try #require(e2.liveSegments().first).fileNumber), fileNumber: 1)
        out[.metaBlock] = [reader.properties.encode()]

        var edit = VersionEdit()
        edit.formatVersion = 1
        edit.nextFileNumber = 40
        edit.lastSequence = 500
        edit.addedWALs = [38]
        edit.addedSegments = [SegmentMeta(level: 0, fileNumber: 12, fileSize: 4000, entryCount: 30, sequenceSmallest: 1, sequenceLargest: 30,
                                          smallestKey: InternalKey.encode(userKey: Array("a".utf8)[...], sequence: 3, kind: .value),
                                          largestKey: InternalKey.encode(userKey: Array("m".utf8)[...], sequence: 9, kind: .deletion))]
        out[.manifestEdit] = [edit.encode()]

        out[.bloomFilter] = [BloomFilter.build(hashes: (0..<50).map { Hash64.hash(Array("k\($0)".utf8)[...]) })]
        return out
    }

    /// One seeded mutation of `input`.
    static func mutate(_ input: [UInt8], _ r: inout SeededRandom) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + r.below(3)) {
            switch r.below(8) {
            case 0, 1:
                if !b.isEmpty { b[r.below(b.count)] ^= UInt8(1 << r.below(8)) }
            case 2:
                if !b.isEmpty { b[r.below(b.count)] = r.pick([0, 0xff, 0x80, 0x7f, UInt8(truncatingIfNeeded: r.next())]) }
            case 3:
                if !b.isEmpty { b.removeLast(r.below(b.count + 1)) }
            case 4:
                b.insert(contentsOf: r.bytes(1 + r.below(12)), at: r.below(b.count + 1))
            case 5:
                if !b.isEmpty {
                    let start = r.below(b.count)
                    let end = min(b.count, start + 1 + r.below(64))
                    b.insert(contentsOf: b[start..<end], at: r.below(b.count + 1))
                }
            case 6:
                if !b.isEmpty {
                    let start = r.below(b.count)
                    for i in start..<min(b.count, start + 1 + r.below(300)) { b[i] = 0 }
                }
            default:
                if b.count > 8 {
                    // A plausible varint in a random place: a length or count gone large.
                    let at = r.below(b.count - 4)
                    b.replaceSubrange(at..<(at + 3), with: [0xff, 0xff, UInt8(r.below(128))])
                }
            }
        }
        return b
    }

    @Test func everyDecoderSurvivesMutatedInputs() throws {
        let seed = SeededRandom.seed(default: 31_337)
        let perDecoder = Int(ProcessInfo.processInfo.environment["CARTSTORE_DECODER_INPUTS"] ?? "") ?? 2000
        print("storage decoders: seed=\(seed), \(perDecoder) mutated inputs per decoder (replay: CARTSTORE_SEED=\(seed) swift test --filter everyDecoderSurvivesMutatedInputs)")
        var r = SeededRandom(seed: seed)
        let valid = try Self.seeds()
        var summary: [String] = []
        for decoder in Decoder.allCases {
            let inputs = try #require(valid[decoder], "no valid input for \(decoder)")
            for input in inputs {
                if case let .rejected(e) = _StorageFuzzHooks.run(decoder, input) {
                    Issue.record("\(decoder): a valid input (\(input.count) bytes) was rejected: \(e)")
                }
            }
            var accepted = 0, rejected = 0
            let started = Date()
            for i in 0..<perDecoder {
                let input = Self.mutate(r.pick(inputs), &r)
                switch _StorageFuzzHooks.run(decoder, input) {
                case .accepted: accepted += 1
                case .rejected: rejected += 1
                case let .violation(problem):
                    Issue.record("\(decoder) input \(i) (\(input.count) bytes): \(problem); replay: CARTSTORE_SEED=\(seed)")
                    return
                }
            }
            summary.append("\(decoder) \(accepted)/\(rejected) \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
        print("storage decoders (accepted/rejected): " + summary.joined(separator: ", "))
    }

    @Test func writeFuzzCorpusWhenAsked() throws {
        guard let directory = ProcessInfo.processInfo.environment["CARTSTORE_STORAGE_FUZZ_CORPUS"] else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (decoder, inputs) in try Self.seeds() {
            for (i, input) in inputs.enumerated() {
                try Data([decoder.rawValue] + input).write(to: URL(fileURLWithPath: directory).appendingPathComponent("seed-\(decoder)-\(i)"))
            }
        }
    }
}
