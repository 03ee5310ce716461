import Testing
import Foundation
@testable import CartStorage

/// The worked examples of `data-format.md`, read from the document itself and compared byte for
/// byte with what the engine writes for the same operations: the document and the code cannot
/// drift apart unnoticed.
@Suite("data-format.md worked examples")
struct GoldenFormatTests {
    static var document: String {
        get throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("data-format.md").path
            return try String(contentsOfFile: path, encoding: .utf8)
        }
    }

    /// The bytes of the first fenced block after `marker`: every line that starts with an
    /// `xxxxxxxx:` offset, and every line made only of hex groups, with `|` separators and the
    /// xxd text column ignored.
    static func exampleBytes(after marker: String, in doc: String) throws -> [UInt8] {
        let start = try #require(doc.range(of: marker), "data-format.md has no \(marker.debugDescription)")
        let rest = doc[start.upperBound...]
        let open = try #require(rest.range(of: "```\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        var bytes: [UInt8] = []
        for line in rest[open.upperBound..<close.lowerBound].split(separator: "\n") {
            var text = Substring(line)
            var isData = false
            if let colon = text.firstIndex(of: ":"), text.distance(from: text.startIndex, to: colon) == 8,
               text[..<colon].allSatisfy(\.isHexDigit) {
                text = text[text.index(after: colon)...]
                // xxd's text column follows two spaces after the last group.
                if let gap = text.range(of: "  ", options: .backwards), text[gap.upperBound...].contains(where: { !$0.isHexDigit && $0 != " " }) {
                    text = text[..<gap.lowerBound]
                }
                isData = true
            }
            let tokens = text.split(whereSeparator: { $0 == " " || $0 == "|" })
            if !isData { isData = !tokens.isEmpty && tokens.allSatisfy { $0.count % 2 == 0 && $0.allSatisfy(\.isHexDigit) } }
            guard isData else { continue }
            for token in tokens {
                guard token.count % 2 == 0, token.allSatisfy(\.isHexDigit) else { break } // an annotation follows
                var i = token.startIndex
                while i < token.endIndex {
                    let j = token.index(i, offsetBy: 2)
                    bytes.append(UInt8(token[i..<j], radix: 16)!)
                    i = j
                }
            }
        }
        return bytes
    }

    /// An engine on a memory file system, in manual mode, as the examples were written.
    static func engine() throws -> (StorageEngine, MemoryFileSystem) {
        let fs = MemoryFileSystem()
        try fs.createDirectory("/db")
        var o = StorageOptions()
        o.fileSystem = fs
        o.backgroundMode = .manual
        o.logger.logLevel = .critical
        return (try StorageEngine.open("/db", options: o), fs)
    }

    /// "Puts `a`=`1` (sequence 1), `b`=`22` (2), delete `a` (3), flush (`000004.seg`)", and the
    /// manifest that flush leaves.
    @Test func segmentAndManifestExamplesMatchTheEngine() throws {
        let doc = try Self.document
        let (e, fs) = try Self.engine()
        try e.put(Array("a".utf8), Array("1".utf8))
        try e.put(Array("b".utf8), Array("22".utf8))
        try e.delete(Array("a".utf8))
        try e.flush()
        let segment = try #require(fs.contents(of: "/db/000004.seg"))
        let manifest = try #require(fs.contents(of: "/db/MANIFEST-000002"))
        try e.close()

        let documentedSegment = try Self.exampleBytes(after: "### Worked example: a complete 188-byte segment", in: doc)
        #expect(documentedSegment.count == 188)
        #expect(segment == documentedSegment, "000004.seg differs from data-format.md's worked example")

        let documentedManifest = try Self.exampleBytes(after: "**Example** (`MANIFEST-000002`", in: doc)
        #expect(documentedManifest.count == 67)
        #expect(manifest == documentedManifest, "MANIFEST-000002 differs from data-format.md's example")
    }

    /// "a WAL holding one put, `000001.wal`, 33 bytes".
    @Test func walExampleMatchesTheEngine() throws {
        let doc = try Self.document
        let (e, fs) = try Self.engine()
        try e.put(Array("cart:1".utf8), Array("apple".utf8))
        let wal = try #require(fs.contents(of: "/db/000001.wal"))
        try e.close()
        let documented = try Self.exampleBytes(after: "**Example** (a WAL holding one put", in: doc)
        #expect(documented.count == 33)
        #expect(wal == documented, "000001.wal differs from data-format.md's example")
    }
}
