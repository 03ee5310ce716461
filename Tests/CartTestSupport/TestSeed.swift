import Foundation

/// Seeds for randomized tests. Each test's seed is fixed (derived from its name) so runs are
/// deterministic; `CARTSTORE_SEED=<n>` replays seed n in every test, `CARTSTORE_SEED=random`
/// draws fresh ones. The seed is printed first and repeated in every failure message.
public enum TestSeed {
    public static func make(_ testName: String) -> UInt64 {
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
    public static func repro(_ seed: UInt64, _ testName: String) -> String {
        "reproduce with: CARTSTORE_SEED=\(seed) swift test --filter \(testName)"
    }
}
