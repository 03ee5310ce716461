import CartStorage

/// The simulator's only source of randomness: SplitMix64 from the seed. Every choice of a run
/// (options, delays, faults, workload) is drawn from one of these, in a fixed order.
public struct SimulationRandom: Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `0..<bound` (`bound` ≥ 1).
    public mutating func below(_ bound: Int) -> Int { generator.below(bound) }

    /// Uniform in `range`.
    public mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return Double(next() >> 11) / Double(1 << 53) < p
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }
}
