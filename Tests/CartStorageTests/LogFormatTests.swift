import Testing
import CartTestSupport
@testable import CartStorage

@Suite("WAL framing")
struct LogFormatTests {
    /// Frames records of sizes chosen to land on and across 32 KiB block boundaries.
    static func framed(_ payloads: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        for p in payloads { LogWriter.frame(p[...], blockOffset: &offset, into: &out) }
        return out
    }

    static func payloads(seed: UInt64) -> [[UInt8]] {
        var r = SeededRandom(seed: seed)
        var sizes = [0, 1, LogFormat.blockSize - LogFormat.headerSize, LogFormat.blockSize - LogFormat.headerSize - 3,
                     LogFormat.blockSize, 3 * LogFormat.blockSize + 17, 5, 100_000]
        for _ in 0..<40 { sizes.append(Int(r.next() % 5000)) }
        return sizes.enumerated().map { i, n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
    }

    @Test func recordsRoundTripAcrossBlockBoundaries() throws {
        let ps = Self.payloads(seed: 1)
        let bytes = Self.framed(ps)
        var reader = LogReader(fileName: "t.wal", bytes: bytes, tailPolicy: .strict)
        let got = try reader.readAll()
        #expect(got.map(\.payload) == ps)
        #expect(reader.tornTailOffset == nil)
    }

    @Test func blockTrailerIsZeroPadded() throws {
        // A record that leaves 5 bytes in the block forces a zero trailer before the next one.
        let first = [UInt8](repeating: 7, count: LogFormat.blockSize - LogFormat.headerSize - 5)
        let bytes = Self.framed([first, [1, 2, 3]])
        #expect(bytes[(LogFormat.blockSize - 5)..<LogFormat.blockSize].allSatisfy { $0 == 0 })
        var reader = LogReader(fileName: "t.wal", bytes: bytes, tailPolicy: .strict)
        #expect(try reader.readAll().map(\.payload) == [first, [1, 2, 3]])
    }

    @Test func truncatedTailAtEveryOffsetLosesOnlyTheLastRecord() throws {
        let ps: [[UInt8]] = [Array(repeating: 1, count: 100), Array(repeating: 2, count: 40_000), Array(repeating: 3, count: 70)]
        let whole = Self.framed(ps)
        let lastStart = Self.framed(Array(ps.dropLast())).count
        for cut in lastStart..<whole.count {
            var reader = LogReader(fileName: "t.wal", bytes: Array(whole[0..<cut]), tailPolicy: .anyDamage)
            let got = try reader.readAll()
            #expect(got.map(\.payload) == Array(ps.dropLast()), "cut at \(cut)")
        }
        // Without tolerance the same cut is an error naming the offset.
        var strict = LogReader(fileName: "t.wal", bytes: Array(whole[0..<(whole.count - 1)]), tailPolicy: .strict)
        #expect(throws: StorageError.self) { try strict.readAll() }
    }

    @Test func corruptionFollowedByValidDataIsAnError() throws {
        let ps = (0..<6).map { [UInt8](repeating: UInt8($0), count: 20_000) }
        var bytes = Self.framed(ps)
        bytes[10] ^= 0xff // inside the first record
        var reader = LogReader(fileName: "t.wal", bytes: bytes, tailPolicy: .anyDamage)
        do {
            _ = try reader.readAll()
            Issue.record("expected a corruption error")
        } catch {
            guard case let .checksumMismatch(file, offset, _, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(file == "t.wal")
            #expect(offset == 0)
        }
    }
}

