import CartStorage

/// The project's SplitMix64 (`CartStorage.SplitMix64`) with the tests' draws. Every randomized
/// test draws from one of these so that a printed seed replays the run exactly.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `0..<bound` (bound > 0).
    public mutating func below(_ bound: Int) -> Int {
        Int(next(upperBound: UInt64(bound)))
    }

    /// True with probability `percent`/100.
    public mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }

    /// A random element (the collection must not be empty).
    public mutating func pick<C: RandomAccessCollection>(_ collection: C) -> C.Element where C.Index == Int {
        collection[collection.startIndex + below(collection.count)]
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    /// A seed from `CARTSTORE_SEED` if set, else `fallback`.
    public static func seed(default fallback: UInt64) -> UInt64 {
        if let s = getenv("CARTSTORE_SEED"), let v = UInt64(String(cString: s)) { return v }
        return fallback
    }

    /// Mixes several numbers into one seed.
    public static func derive(_ parts: UInt64...) -> UInt64 {
        var r = SeededRandom(seed: 0x5EED)
        var acc: UInt64 = 0
        for p in parts {
            r = SeededRandom(seed: acc ^ p &* 0x9E37_79B9_7F4A_7C15)
            acc = r.next()
        }
        return acc
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
