import CartTestSupport
import Testing
@testable import CartVersioning

/// Merge of carts is a join (commutative, associative, idempotent, monotone), and equal states
/// have equal bytes: `encode(merge(a, b)) == encode(merge(b, a))` over random histories with
/// Unicode-equivalent SKUs and metadata keys, retries at two replicas and compaction.
@Suite struct CartLawTests {
    @Test func cartMergeIsAJoin() throws {
        let name = "cartMergeIsAJoin"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        for history in 0..<12 {
            let pool = Generators.cartPool(&rng, replicas: 3 + rng.below(3), steps: 60)
            for caseIndex in 0..<40 {
                let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                let ab = a.merging(b), ba = b.merging(a)
                #expect(ab == ba, "commutative: \(context)")
                #expect(try RecordCodec.encode(.cart(ab)) == RecordCodec.encode(.cart(ba)), "equal bytes: \(context)")
                #expect(a.merging(a) == a, "idempotent: \(context)")
                #expect(ab.merging(c) == a.merging(b.merging(c)), "associative: \(context)")
                #expect(ab.context.covers(a.context) && ab.context.covers(b.context), "context grows: \(context)")
                #expect(ab.merging(a) == ab, "absorbs its parts: \(context)")
            }
        }
    }

    /// The canonical-bytes property on its own, with more histories and only Unicode-equivalent
    /// SKUs, so that NFC and NFD spellings meet all the time.
    @Test func equalStatesEncodeToEqualBytes() throws {
        let name = "equalStatesEncodeToEqualBytes"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var checked = 0
        for history in 0..<20 {
            let pool = Generators.cartPool(&rng, replicas: 3, steps: 50, skus: Generators.unicodeSKUs)
            for caseIndex in 0..<30 {
                let a = rng.pick(pool), b = rng.pick(pool)
                let lhs = try RecordCodec.encode(.cart(a.merging(b)))
                let rhs = try RecordCodec.encode(.cart(b.merging(a)))
                #expect(lhs == rhs, "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))")
                if case let .cart(back) = try RecordCodec.decode(lhs) {
                    #expect(back == a.merging(b), "round trip: seed=\(seed) history=\(history) case=\(caseIndex)")
                }
                checked += 1
            }
        }
        #expect(checked == 600)
    }
}
