import CartTestSupport
import Testing
@testable import CartVersioning

/// Laws of clocks and sibling sets: compare is a partial order, merge is a join.
@Suite struct ClockLawTests {
    @Test func versionVectorCompareIsAPartialOrder() {
        let name = "versionVectorCompareIsAPartialOrder"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        func lessOrEqual(_ a: VersionVector, _ b: VersionVector) -> Bool {
            [.before, .equal].contains(a.compare(b))
        }
        for caseIndex in 0..<400 {
            let a = Generators.versionVector(&rng)
            // Build b and c partly from a so that chains a <= b <= c occur often.
            let b = rng.chance(50) ? a.merging(Generators.versionVector(&rng)) : Generators.versionVector(&rng)
            let c = rng.chance(50) ? b.merging(Generators.versionVector(&rng)) : Generators.versionVector(&rng)
            let context = "seed=\(seed) case=\(caseIndex) a=\(a.entries) b=\(b.entries) c=\(c.entries); \(TestSeed.repro(seed, name))"
            #expect(a.compare(a) == .equal, "reflexive: \(context)")
            if lessOrEqual(a, b), lessOrEqual(b, a) {
                #expect(a == b, "antisymmetric: \(context)")
            }
            if lessOrEqual(a, b), lessOrEqual(b, c) {
                #expect(lessOrEqual(a, c), "transitive: \(context)")
            }
            let flipped: [CausalOrder: CausalOrder] = [.before: .after, .after: .before, .equal: .equal, .concurrent: .concurrent]
            #expect(flipped[a.compare(b)] == b.compare(a), "converse: \(context)")
            let join = a.merging(b)
            #expect(lessOrEqual(a, join) && lessOrEqual(b, join), "merge is an upper bound: \(context)")
            #expect(join == b.merging(a) && a.merging(a) == a, "merge commutative, idempotent: \(context)")
            #expect(a.merging(b).merging(c) == a.merging(b.merging(c)), "merge associative: \(context)")
        }
    }

    @Test func siblingSetMergeIsAJoin() {
        let name = "siblingSetMergeIsAJoin"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        // A small cap, so that writes drop siblings: merges must stay a join all the same.
        var limits = VersioningLimits()
        limits.siblingsPerKeyMax = 3
        for history in 0..<12 {
            let pool = Generators.siblingSetPool(&rng, replicas: 3 + rng.below(3), steps: 40, limits: history % 2 == 0 ? limits : Generators.lawLimits)
            for caseIndex in 0..<40 {
                let a = rng.pick(pool), b = rng.pick(pool), c = rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                #expect(a.merging(b) == b.merging(a), "commutative: \(context)")
                #expect(a.merging(a) == a, "idempotent: \(context)")
                #expect(a.merging(b).merging(c) == a.merging(b.merging(c)), "associative: \(context)")
                let join = a.merging(b)
                #expect([.before, .equal].contains(a.compare(join)), "upper bound: \(context)")
                #expect(Set(join.versions.map { $0.dot }).isSubset(of: Set(a.versions.map { $0.dot } + b.versions.map { $0.dot })),
                        "merge invents no version: \(context)")
            }
        }
    }

    @Test func siblingSetCompareIsAPartialOrder() {
        let name = "siblingSetCompareIsAPartialOrder"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        func lessOrEqual(_ a: SiblingSet, _ b: SiblingSet) -> Bool { [.before, .equal].contains(a.compare(b)) }
        for history in 0..<10 {
            let pool = Generators.siblingSetPool(&rng, replicas: 3, steps: 40)
            for caseIndex in 0..<40 {
                let a = rng.pick(pool)
                let b = rng.chance(50) ? a.merging(rng.pick(pool)) : rng.pick(pool)
                let c = rng.chance(50) ? b.merging(rng.pick(pool)) : rng.pick(pool)
                let context = "seed=\(seed) history=\(history) case=\(caseIndex); \(TestSeed.repro(seed, name))"
                #expect(a.compare(a) == .equal, "reflexive: \(context)")
                if lessOrEqual(a, b), lessOrEqual(b, a) { #expect(a == b, "antisymmetric: \(context)") }
                if lessOrEqual(a, b), lessOrEqual(b, c) { #expect(lessOrEqual(a, c), "transitive: \(context)") }
            }
        }
    }

    @Test func causalContextCompactsAndCovers() {
        let name = "causalContextCompactsAndCovers"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        for caseIndex in 0..<300 {
            var dots: Set<Dot> = []
            for _ in 0..<rng.below(12) {
                dots.insert(Dot(replica: Generators.replica(rng.below(3)), counter: UInt64(1 + rng.below(8))))
            }
            var incremental = CausalContext()
            for dot in dots.shuffled(using: &rng) { incremental.insert(dot) }
            let bulk = CausalContext(versionVector: VersionVector(), dotCloud: dots)
            let context = "seed=\(seed) case=\(caseIndex); \(TestSeed.repro(seed, name))"
            #expect(incremental == bulk, "insert order does not matter: \(context)")
            for dot in dots { #expect(bulk.contains(dot), "contains every inserted dot: \(context)") }
            for dot in bulk.dotCloud {
                #expect(dot.counter > bulk.versionVector[dot.replica] + 1, "cloud is compacted: \(context)")
            }
            let covered = dots.filter { _ in rng.chance(50) }
            #expect(bulk.covers(CausalContext(versionVector: VersionVector(), dotCloud: covered)), "covers subsets: \(context)")
        }
    }
}
