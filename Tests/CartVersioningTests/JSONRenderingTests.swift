import Foundation
import Testing
@testable import CartVersioning

/// The JSON the HTTP API renders: stable field names, documented in data-format.md ("Record codec").
@Suite struct JSONRenderingTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    @Test func cartViewJSONIsStable() throws {
        let cart = try RecordCodecTests.exampleCart()
        var withMetadata = cart
        try withMetadata.apply(.updateDetails(sku: "A1", details: CartItemDetails(metadata: ["color": "red"])),
                               at: ReplicaID(node: 1, epoch: 1), nowMs: 3000)
        let json = String(decoding: try Self.encoder().encode(withMetadata.view), as: UTF8.self)
        print("json-example: \(json)")
        let token = try withMetadata.context.token()
        #expect(json == #"{"context":"\#(token)","items":[{"addedAtMs":1000,"metadata":{"color":"red"},"name":"Mug","priceMinor":1299,"quantity":1,"sku":"A1","updatedAtMs":3000}]}"#)
        let back = try JSONDecoder().decode(CartView.self, from: Data(json.utf8))
        #expect(back == withMetadata.view)
    }

    @Test func siblingsViewJSONIsStable() throws {
        var set = SiblingSet()
        try set.write(Sibling(value: Array("hi".utf8), timestampMs: 5), context: VersionVector(), at: ReplicaID(node: 7, epoch: 1))
        try set.write(.deletion(timestampMs: 6), context: VersionVector(), at: ReplicaID(node: 8, epoch: 2))
        let json = String(decoding: try Self.encoder().encode(SiblingsView(set, policy: .siblings)), as: UTF8.self)
        print("json-siblings: \(json)")
        let token = try CausalContext(versionVector: set.context).token()
        #expect(json == #"{"context":"\#(token)","siblings":[{"counter":1,"deleted":false,"replica":{"epoch":1,"node":"7"},"timestampMs":5,"value":"aGk="},{"counter":1,"deleted":true,"replica":{"epoch":2,"node":"8"},"timestampMs":6,"value":""}]}"#)
        let lww = try SiblingsView(set, policy: .lastWriteWins)
        #expect(lww.siblings.count == 1 && lww.siblings.first?.deleted == true)
    }

    @Test func operationsRoundTripThroughJSON() throws {
        let operations: [CartOperation] = [
            .add(sku: "A1", quantity: 2, details: CartItemDetails(name: "Mug", priceMinor: 1299, metadata: ["c": "r"])),
            .changeQuantity(sku: "A1", delta: -1), .setQuantity(sku: "A1", quantity: 3),
            .updateDetails(sku: "A1", details: CartItemDetails(name: "Big mug")), .remove(sku: "A1"), .clear,
        ]
        let json = try Self.encoder().encode(operations)
        #expect(try JSONDecoder().decode([CartOperation].self, from: json) == operations)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.hasPrefix(#"[{"metadata":{"c":"r"},"name":"Mug","op":"add","priceMinor":1299,"quantity":2,"sku":"A1"}"#))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CartOperation.self, from: Data(#"{"op":"explode"}"#.utf8))
        }
    }

    @Test func contextTokensRejectGarbage() throws {
        #expect(try CausalContext(token: "") == CausalContext())
        for bad in ["!!!!", "AQ", "AQMAAA==x", "AQMAAB==", "AQIAAAA="] {
            #expect(throws: RecordCodecError.self, "\(bad)") { try CausalContext(token: bad) }
        }
        let context = try RecordCodecTests.exampleCart().context
        #expect(try CausalContext(token: context.token()) == context)
    }
}
