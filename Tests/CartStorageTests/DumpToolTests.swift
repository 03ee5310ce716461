import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// `cartstore-dump` run as a user would: a real process on a directory the engine wrote.
@Suite("cartstore-dump")
struct DumpToolTests {
    static func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltProducts.path("cartstore-dump"))
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func verifyPassesOnHealthyDataAndNamesTheCorruptBlock() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let (first, _) = try RecoveryTests.twoSegments(dir)
        let healthy = try Self.run(["verify", dir.path])
        #expect(healthy.status == 0, "\(healthy.output)")
        let segName = FileNames.segment(first.fileNumber)
        let dump = try Self.run(["segment", dir.file(segName)])
        #expect(dump.status == 0)
        #expect(dump.output.contains("CARTSEG1"))
        #expect(dump.output.contains("entries"))

        let reader = try SegmentReader.open(fileSystem: PosixFileSystem(), path: dir.file(segName), fileNumber: first.fileNumber)
        let victim = try reader.dataBlockHandles()[2].handle
        FileSurgery.flip(dir.file(segName), at: Int(victim.offset) + 7)
        let broken = try Self.run(["verify", dir.path])
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("CORRUPT"))
        #expect(broken.output.contains(segName))
        #expect(broken.output.contains("offset \(victim.offset)"))
    }

    @Test func missingFileIsAClearErrorNotACrash() throws {
        let r = try Self.run(["segment", "/nonexistent/000001.seg"])
        #expect(r.status != 0)
        #expect(r.status < 128, "terminated by a signal: \(r.output)")
        #expect(r.output.contains("/nonexistent/000001.seg"))
    }
}
