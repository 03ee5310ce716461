import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

@Suite("Recovery and corruption")
struct RecoveryTests {
    static func options() -> StorageOptions {
        var o = StorageOptions()
        o.memtableBytes = 1 << 20
        o.blockBytes = 512
        o.logger.logLevel = .critical
        return o
    }

    /// Cuts the newest WAL at every offset inside its last record: the engine opens and loses
    /// exactly that record.
    @Test func tornWALTailLosesOnlyTheLastRecord() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.options())
        for i in 0..<30 { try e.put("key-\(i)".bytes, "value-\(i)-\(String(repeating: "x", count: i))".bytes) }
        try e.close()
        guard let walName = dir.files(withSuffix: ".wal").last else { Issue.record("no WAL"); return }
        let bytes = FileSurgery.read(dir.file(walName))
        var reader = LogReader(fileName: walName, bytes: bytes, tailPolicy: .strict)
        let records = try reader.readAll()
        #expect(records.count == 30)
        guard let lastStart = records.last?.offset else { return }
        for cut in lastStart..<bytes.count {
            let copy = dir.copy("cut\(cut)")
            defer { copy.remove() }
            FileSurgery.truncate(copy.file(walName), to: cut)
            let reopened = try StorageEngine.open(copy.path, options: Self.options())
            for i in 0..<29 { #expect(try reopened.get("key-\(i)".bytes) != nil, "cut \(cut) lost key-\(i)") }
            #expect(try reopened.get("key-29".bytes) == nil, "cut \(cut)")
            try reopened.close()
        }
    }

    /// A bad byte in the middle of an older record of the newest WAL is corruption, not a tail.
    @Test func corruptWALRecordBeforeValidOnesIsAnError() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.options())
        for i in 0..<400 { try e.put("key-\(i)".bytes, [UInt8](repeating: UInt8(i % 200), count: 300)) }
        try e.close()
        guard let walName = dir.files(withSuffix: ".wal").last else { Issue.record("no WAL"); return }
        FileSurgery.flip(dir.file(walName), at: 100)
        #expect {
            try StorageEngine.open(dir.path, options: Self.options())
        } throws: { error in
            guard let e = error as? StorageError, case let .checksumMismatch(file, offset, _, _) = e else { return false }
            return file.hasSuffix(walName) && offset < 100
        }
    }

    /// Builds a directory with two flushed segments of disjoint key ranges ("a…" and "b…") and
    /// a few keys only in the WAL ("c…").
    static func twoSegments(_ dir: TestDirectory) throws -> (first: SegmentInfo, second: SegmentInfo) {
        let e = try StorageEngine.open(dir.path, options: options())
        for i in 0..<2000 { try e.put("a\(format6(i))".bytes, "value-a-\(i)".bytes) }
        try e.flush()
        for i in 0..<2000 { try e.put("b\(format6(i))".bytes, "value-b-\(i)".bytes) }
        try e.flush()
        for i in 0..<10 { try e.put("c\(i)".bytes, "value-c".bytes) }
        let segs = e.liveSegments().sorted { $0.fileNumber < $1.fileNumber }
        try e.close()
        return (segs[0], segs[1])
    }

    @Test func corruptDataBlockFailsOnlyReadsOfThatBlock() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let (first, _) = try Self.twoSegments(dir)
        let path = dir.file(FileNames.segment(first.fileNumber))
        let reader = try SegmentReader.open(fileSystem: PosixFileSystem(), path: path, fileNumber: first.fileNumber)
        let blocks = try reader.dataBlockHandles()
        let victim = blocks[3]
        FileSurgery.flip(path, at: Int(victim.handle.offset) + 10)
        let e = try StorageEngine.open(dir.path, options: Self.options())
        defer { try? e.close() }
        let victimKey = Array(InternalKey.userKey(victim.lastKey[...]))
        do {
            _ = try e.get(victimKey)
            Issue.record("read of a corrupt block succeeded")
        } catch {
            guard case let .checksumMismatch(file, offset, expected, actual) = error else { Issue.record("\(error)"); return }
            #expect(file == path)
            #expect(offset == Int(victim.handle.offset))
            #expect(expected != actual)
            print("corrupt block reported as: \(error)")
        }
        // Keys in other blocks, other segments and the WAL are still served.
        let firstBlockKey = Array(InternalKey.userKey(blocks[0].lastKey[...]))
        #expect(try e.get(firstBlockKey) != nil)
        #expect(try e.get("b000500".bytes) == "value-b-500".bytes)
        #expect(try e.get("c3".bytes) == "value-c".bytes)
        // A scan that crosses the block reports the error instead of skipping data.
        #expect(throws: StorageError.self) { try e.scan(from: "a".bytes, to: "b".bytes).collect() }
    }

    @Test(arguments: ["index", "footer"])
    func corruptSegmentMetadataFailsOnlyItsKeyRange(region: String) throws {
        let dir = TestDirectory("meta\(region)")
        defer { dir.remove() }
        let (first, _) = try Self.twoSegments(dir)
        let path = dir.file(FileNames.segment(first.fileNumber))
        let size = FileSurgery.read(path).count
        let offset: Int
        if region == "footer" {
            offset = size - 20 // inside the footer's handles/version
        } else {
            let file = try PosixFileSystem().openForReading(path)
            let footer = try SegmentReader.readFooter(file)
            offset = Int(footer.index.offset) + 3
        }
        FileSurgery.flip(path, at: offset)
        let e = try StorageEngine.open(dir.path, options: Self.options())
        defer { try? e.close() }
        do {
            _ = try e.get("a000100".bytes)
            Issue.record("read from a segment with a corrupt \(region) succeeded")
        } catch {
            #expect(error.isCorruption)
            #expect(error.description.contains(path))
            print("corrupt \(region) reported as: \(error)")
        }
        #expect(try e.get("b000500".bytes) == "value-b-500".bytes)
        #expect(try e.get("c3".bytes) == "value-c".bytes)
    }

    @Test func corruptManifestIsATypedErrorNamingTheFile() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        _ = try Self.twoSegments(dir)
        guard let manifest = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).first(where: { $0.hasPrefix("MANIFEST-") }) else {
            Issue.record("no manifest"); return
        }
        FileSurgery.flip(dir.file(manifest), at: 12)
        do {
            let e = try StorageEngine.open(dir.path, options: Self.options())
            try e.close()
            Issue.record("opened with a corrupt manifest")
        } catch {
            #expect(error.isCorruption)
            #expect(error.description.contains(manifest))
            print("corrupt manifest reported as: \(error)")
        }
        // Nothing was deleted by the refused open: every segment is still there.
        #expect(dir.files(withSuffix: ".seg").count == 2)
    }

    /// One flipped byte early in a small WAL whose intact records follow in the same 32 KiB
    /// block: acknowledged writes follow the damage, so it must not pass for a torn tail.
    @Test func corruptRecordFollowedByIntactOnesInTheSameBlockIsAnError() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.options())
        for i in 0..<30 { try e.put("key-\(i)".bytes, "value-\(i)".bytes) }
        try e.close()
        guard let walName = dir.files(withSuffix: ".wal").last else { Issue.record("no WAL"); return }
        #expect(FileSurgery.read(dir.file(walName)).count < LogFormat.blockSize)
        FileSurgery.flip(dir.file(walName), at: 40)
        #expect(throws: StorageError.self) { try StorageEngine.open(dir.path, options: Self.options()) }
    }

    /// A WAL record whose CRC is valid but whose batch is impossible (crafted or buggy) is a
    /// typed error, not a trap or a wrapped-around sequence number.
    @Test(arguments: [(UInt64(0), UInt32(0)), (UInt64.max, UInt32(2)), (UInt64(1) << 56, UInt32(1))])
    func impossibleBatchHeaderIsCorruption(first: UInt64, count: UInt32) throws {
        let dir = TestDirectory("batch\(first)-\(count)")
        defer { dir.remove() }
        try StorageEngine.open(dir.path, options: Self.options()).close()
        guard let walName = dir.files(withSuffix: ".wal").last else { Issue.record("no WAL"); return }
        var w = ByteWriter()
        w.writeFixed64(first)
        w.writeFixed32(count)
        for _ in 0..<count { w.writeU8(1); w.writeLengthPrefixed("k".bytes); w.writeLengthPrefixed("v".bytes) }
        var framed: [UInt8] = []
        var blockOffset = 0
        LogWriter.frame(w.bytes[...], blockOffset: &blockOffset, into: &framed)
        framed += framed // a second copy, so the damage is not at the tail
        FileSurgery.write(dir.file(walName), framed)
        #expect {
            try StorageEngine.open(dir.path, options: Self.options())
        } throws: { error in
            (error as? StorageError)?.isCorruption == true
        }
    }

    /// A crash during the very first open can leave a manifest and an empty WAL without
    /// CURRENT; nothing was acknowledged, so the next open starts afresh. With a segment
    /// present the engine refuses instead.
    @Test func interruptedFirstOpenIsRecoverable() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        try StorageEngine.open(dir.path, options: Self.options()).close()
        try FileManager.default.removeItem(atPath: dir.file(FileNames.current))
        let e = try StorageEngine.open(dir.path, options: Self.options())
        try e.put("a".bytes, "1".bytes)
        try e.flush()
        try e.close()
        try FileManager.default.removeItem(atPath: dir.file(FileNames.current))
        #expect(throws: StorageError.self) { try StorageEngine.open(dir.path, options: Self.options()) }
        #expect(dir.files(withSuffix: ".seg").count == 1)
    }
}
