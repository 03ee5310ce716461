import Foundation
import Testing
@testable import CartVersioning

@Suite struct ConflictPolicyConfigTests {
    let config = ConflictPolicyConfig(defaultPolicy: .siblings,
                                      prefixes: ["cart/": .cart, "session/": .lastWriteWins, "session/keep/": .siblings])

    @Test func longestPrefixWins() {
        #expect(config.policy(forKey: "cart/42") == .cart)
        #expect(config.policy(forKey: "session/abc") == .lastWriteWins)
        #expect(config.policy(forKey: "session/keep/abc") == .siblings)
        #expect(config.policy(forKey: "other") == .siblings)
    }

    @Test func requestOverridesAreLimited() throws {
        #expect(try config.policy(forKey: Array("session/x".utf8), requested: .siblings) == .siblings)
        #expect(try config.policy(forKey: Array("misc".utf8), requested: .lastWriteWins) == .lastWriteWins)
        #expect(try config.policy(forKey: Array("cart/1".utf8), requested: nil) == .cart)
        #expect(throws: ConflictPolicyConfig.OverrideRefused.self) {
            try config.policy(forKey: Array("cart/1".utf8), requested: .lastWriteWins)
        }
        #expect(throws: ConflictPolicyConfig.OverrideRefused.self) {
            try config.policy(forKey: Array("misc".utf8), requested: .cart)
        }
    }

    @Test func policyRawValuesAndNamesAreStable() throws {
        // Never renumber: these values may be on disk or on the wire.
        #expect(ConflictPolicy.siblings.rawValue == 1)
        #expect(ConflictPolicy.lastWriteWins.rawValue == 2)
        #expect(ConflictPolicy.cart.rawValue == 3)
        let json = try JSONEncoder().encode([ConflictPolicy.siblings, .lastWriteWins, .cart])
        #expect(String(decoding: json, as: UTF8.self) == #"["siblings","lastWriteWins","cart"]"#)
        #expect(try JSONDecoder().decode([ConflictPolicy].self, from: json) == [.siblings, .lastWriteWins, .cart])
    }
}
