import CartTestSupport
import Foundation
import Testing
@testable import CartVersioning

@Suite struct RecordCodecTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The worked example of data-format.md ("Record codec"): keep the two in sync.
    static func exampleCart() throws -> CartState {
        var cart = CartState()
        let a = ReplicaID(node: 1, epoch: 1)
        let b = ReplicaID(node: 2, epoch: 1)
        try cart.apply(.add(sku: "A1", quantity: 2, details: CartItemDetails(name: "Mug", priceMinor: 1299)), id: OperationID("k1"),
                       at: a, issuedCounter: 0, nowMs: 1000)
        try cart.apply(.changeQuantity(sku: "A1", delta: -1), id: OperationID("k2"), at: b, issuedCounter: 0, nowMs: 2000)
        return cart
    }

    @Test func workedExampleMatchesTheDocument() throws {
        let bytes = try RecordCodec.encode(.cart(Self.exampleCart()))
        print("worked-example: \(bytes.count) bytes: \(Self.hex(bytes))")
        #expect(try Self.hex(bytes) == Self.documentedExampleHex())
    }

    /// The hex of the worked example, read from data-format.md (the lines of its first code
    /// block after "### Worked example" up to the closing fence, the bytes before the comments).
    static func documentedExampleHex() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data-format.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let section = text.range(of: "### Worked example: a cart record") else { return "(section missing)" }
        let rest = text[section.upperBound...]
        guard let open = rest.range(of: "```\n"), let close = rest[open.upperBound...].range(of: "```") else { return "(block missing)" }
        var hex = ""
        for line in rest[open.upperBound..<close.lowerBound].split(separator: "\n") {
            let bytesPart = line.drop { $0 == " " }.components(separatedBy: "  ").first ?? ""
            hex += bytesPart.split(separator: " ").filter { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }.joined()
        }
        return hex.lowercased()
    }

    @Test func varintsAreMinimalAndBounded() {
        var writer = ByteWriter()
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, .max] { writer.uvarint(value) }
        var reader = ByteReader(writer.bytes)
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, .max] {
            #expect((try? reader.uvarint("v")) == value)
        }
        for value: Int64 in [0, -1, 1, -64, 64, .min, .max] {
            var signedWriter = ByteWriter()
            signedWriter.svarint(value)
            var signedReader = ByteReader(signedWriter.bytes)
            #expect((try? signedReader.svarint("s")) == value)
        }
        let cases: [([UInt8], RecordCodecError.Code)] = [
            ([0x80, 0x00], .nonMinimalVarint),
            ([0x80], .truncated),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], .malformedVarint),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00], .malformedVarint),
        ]
        for (bytes, code) in cases {
            var bad = ByteReader(bytes)
            #expect(throws: RecordCodecError.self) { try bad.uvarint("v") }
            var again = ByteReader(bytes)
            do {
                _ = try again.uvarint("v")
            } catch {
                #expect(error.code == code, "\(bytes)")
            }
        }
    }

    @Test func headerErrorsNameOffsetAndExpectation() {
        let cases: [([UInt8], RecordCodecError.Code, Int)] = [
            ([], .truncated, 0),
            ([0x03, 0x01], .unsupportedVersion, 0),
            ([0x02, 0x01], .unsupportedVersion, 0),
            ([0x01], .truncated, 1),
            ([0x01, 0x09], .unknownKind, 1),
            ([0x01, 0x03, 0x00, 0x00, 0x00], .unexpectedKind, 1),
            ([0x01, 0x01, 0x00, 0x00], .trailingBytes, 3),
            ([0x02, 0x02, 0x01, 0x01, 0x01], .truncated, 5),
        ]
        for (bytes, code, offset) in cases {
            do {
                _ = try RecordCodec.decode(bytes)
                Issue.record("\(bytes) decoded")
            } catch {
                #expect(error.code == code && error.offset == offset, "\(bytes): \(error)")
            }
        }
        var small = VersioningLimits()
        small.recordBytesMax = 4
        #expect(throws: RecordCodecError(.limitExceeded, offset: 0, expected: "a record of at most 4 bytes, got 5")) {
            try RecordCodec.decode([1, 1, 0, 0, 0], limits: small)
        }
    }

    @Test func randomRecordsRoundTrip() throws {
        let name = "randomRecordsRoundTrip"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var checked = 0
        for history in 0..<8 {
            let carts = Generators.cartPool(&rng, replicas: 3, steps: 40)
            let sets = Generators.siblingSetPool(&rng, replicas: 3, steps: 30, limits: .default)
            for cart in carts.suffix(20) {
                let bytes = try RecordCodec.encode(.cart(cart))
                #expect(try RecordCodec.decode(bytes) == .cart(cart), "seed=\(seed) history=\(history); \(TestSeed.repro(seed, name))")
                let token = try cart.context.token()
                #expect(try CausalContext(token: token) == cart.context)
                checked += 1
            }
            for set in sets.suffix(20) {
                let bytes = try RecordCodec.encode(.siblings(set))
                #expect(try RecordCodec.decode(bytes) == .siblings(set), "seed=\(seed) history=\(history); \(TestSeed.repro(seed, name))")
                checked += 1
            }
        }
        // A context with a dot cloud (as a delta exchange would produce).
        let cloudy = CausalContext(versionVector: VersionVector([Generators.replica(0): 3]),
                                   dotCloud: [Dot(replica: Generators.replica(0), counter: 9), Dot(replica: Generators.replica(2), counter: 4)])
        #expect(try RecordCodec.decodeContext(RecordCodec.encode(cloudy)) == cloudy)
        #expect(checked == 320)
    }

    @Test func typicalTenItemCartSize() throws {
        var cart = CartState()
        let replicas = (0..<3).map { Generators.replica($0) }
        let names = ["Espresso beans 1kg", "Ceramic mug", "Milk frother", "Paper filters", "Oat milk 1l",
                     "Cane sugar", "Travel cup", "Grinder brush", "Descaler", "Gift card"]
        for (index, name) in names.enumerated() {
            let replica = replicas[index % 3]
            let now = UInt64(1_732_000_000_000 + index * 60_000)
            try cart.apply(.add(sku: "SKU-\(100_000 + index)", quantity: 1,
                                details: CartItemDetails(name: name, priceMinor: Int64(499 + index * 250),
                                                         metadata: index % 3 == 0 ? ["color": "black"] : nil)),
                           at: replica, nowMs: now)
            if index % 2 == 0 {
                try cart.apply(.changeQuantity(sku: "SKU-\(100_000 + index)", delta: 1), at: replicas[(index + 1) % 3], nowMs: now + 5_000)
            }
        }
        let bytes = try RecordCodec.encode(.cart(cart))
        let json = try JSONEncoder().encode(cart.view)
        print("typical-cart: 10 items written by 3 replicas: \(bytes.count) bytes binary, \(json.count) bytes JSON")
        #expect(bytes.count < 2_048)
    }

    @Test func encoderRefusesWhatTheDecoderWouldRefuse() throws {
        var small = VersioningLimits()
        small.recordBytesMax = 10
        let cart = try Self.exampleCart()
        #expect(throws: RecordCodecError.self) { try RecordCodec.encode(.cart(cart), limits: small) }
        var tight = VersioningLimits()
        tight.checkpointsPerCounterMax = 1
        var busy = CartState()
        try busy.apply(.add(sku: "A", quantity: 1, details: CartItemDetails()), at: Generators.replica(0), nowMs: 0)
        for step in 1..<3 { try busy.apply(.changeQuantity(sku: "A", delta: 1), at: Generators.replica(0), nowMs: UInt64(step)) }
        #expect(throws: RecordCodecError.self, "more checkpoints than these limits allow") {
            try RecordCodec.encode(.cart(busy), limits: tight)
        }
    }

    /// Version 1 carts (folded contributions) are refused with a clear message; version 1
    /// sibling sets and tokens are what this code still writes.
    @Test func formatVersionsPerKind() throws {
        let v1Cart: [UInt8] = [0x01, 0x02, 0x00, 0x00, 0x00, 0x00]
        do {
            _ = try RecordCodec.decode(v1Cart)
            Issue.record("a version 1 cart decoded")
        } catch {
            #expect(error.code == .unsupportedVersion && error.offset == 0)
            #expect(error.expected.contains("version 1 carts"), "\(error)")
        }
        var set = SiblingSet()
        try set.write(Sibling(value: [7], timestampMs: 1), context: VersionVector(), at: Generators.replica(0))
        #expect(try RecordCodec.encode(.siblings(set)).prefix(2) == [0x01, 0x01])
        #expect(try RecordCodec.encode(CausalContext()).prefix(2) == [0x01, 0x03])
        #expect(try RecordCodec.encode(.cart(CartState())).prefix(2) == [0x02, 0x02])
        for wrong: [UInt8] in [[0x02, 0x01, 0x00], [0x02, 0x03, 0x00, 0x00, 0x00], [0x03, 0x02]] {
            #expect(throws: RecordCodecError.self, "\(wrong)") { try RecordCodec.decode(wrong) }
        }
    }

    /// Writes seed inputs for the fuzzer when CARTSTORE_FUZZ_CORPUS names a directory.
    @Test func writeFuzzCorpusWhenAsked() throws {
        guard let directory = ProcessInfo.processInfo.environment["CARTSTORE_FUZZ_CORPUS"] else { return }
        var rng = SeededRandom(seed: 1)
        var records: [[UInt8]] = [try RecordCodec.encode(.cart(Self.exampleCart()))]
        for cart in Generators.cartPool(&rng, replicas: 3, steps: 30).suffix(8) {
            records.append(try RecordCodec.encode(.cart(cart)))
            records.append(try RecordCodec.encode(cart.context))
        }
        for set in Generators.siblingSetPool(&rng, replicas: 3, steps: 20, limits: .default).suffix(8) {
            records.append(try RecordCodec.encode(.siblings(set)))
        }
        for (index, record) in records.enumerated() {
            try Data(record).write(to: URL(fileURLWithPath: directory).appendingPathComponent("seed-\(index)"))
        }
    }
}
