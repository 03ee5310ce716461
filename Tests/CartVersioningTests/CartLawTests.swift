import CartTestSupport
import Testing
@testable import CartVersioning

/// Merge of carts is a join: commutative, associative, idempotent, and monotone.
@Suite struct CartLawTests {
    @Test func cartMergeIsAJoin() {
        let name = "cartMergeIsAJoin"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        for history in 0..<10 {
            let pool = Generators.cartPool(&rng, replicas: 3 + rng.below(3), steps: 50)
            for caseIndex in 0..<40 {
                let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                #expect(a.merging(b) == b.merging(a), "commutative: \(context)")
                #expect(a.merging(a) == a, "idempotent: \(context)")
                #expect(a.merging(b).merging(c) == a.merging(b.merging(c)), "associative: \(context)")
                let join = a.merging(b)
                #expect(join.context.covers(a.context) && join.context.covers(b.context), "context grows: \(context)")
                #expect(join.merging(a) == join, "absorbs its parts: \(context)")
            }
        }
    }

    @Test func cartMergeIsAJoinWithFolding() {
        let name = "cartMergeIsAJoinWithFolding"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var limits = VersioningLimits()
        limits.quantityEntriesPerReplicaMax = 2
        for history in 0..<10 {
            let pool = Generators.cartPool(&rng, replicas: 3, steps: 50, limits: limits)
            for caseIndex in 0..<30 {
                let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                #expect(a.merging(b) == b.merging(a), "commutative: \(context)")
                #expect(a.merging(a) == a, "idempotent: \(context)")
                #expect(a.merging(b).merging(c) == a.merging(b.merging(c)), "associative: \(context)")
            }
        }
    }
}
