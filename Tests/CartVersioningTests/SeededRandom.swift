import Foundation

/// SplitMix64: a tiny, fast, seedable generator, so every randomized test replays from a seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int {
        Int(next(upperBound: UInt64(bound)))
    }

    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }

    /// A random element (the collection must not be empty).
    mutating func pick<C: RandomAccessCollection>(_ collection: C) -> C.Element where C.Index == Int {
        collection[collection.startIndex + below(collection.count)]
    }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// Seeds for randomized tests. Each test's seed is fixed (derived from its name) so runs are
/// deterministic; `CARTSTORE_SEED=<n>` replays seed n in every test, `CARTSTORE_SEED=random`
/// draws fresh ones. The seed is printed first and repeated in every failure message.
enum TestSeed {
    static func make(_ testName: String) -> UInt64 {
        let environment = ProcessInfo.processInfo.environment["CARTSTORE_SEED"]
        let seed: UInt64
        if let environment, let value = UInt64(environment) {
            seed = value
        } else if environment == "random" {
            seed = UInt64.random(in: 0...UInt64.max)
        } else {
            // FNV-1a of the name: stable across runs and platforms (unlike hashValue).
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in testName.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
            seed = hash
        }
        print("SEED=\(seed) test=\(testName)")
        return seed
    }

    /// The line that ends every failure message.
    static func repro(_ seed: UInt64, _ testName: String) -> String {
        "reproduce with: CARTSTORE_SEED=\(seed) swift test --filter \(testName)"
    }
}
