/// SplitMix64 (Steele, Lea, Flood 2014): the one seedable generator of the project. The
/// memory file system's power-loss choices, the benchmark's key orders, the cluster simulator
/// and the tests' `SeededRandom` all draw from it, so a printed seed replays a run exactly.
/// `Benchmarks/peers/leveldb_bench.cc` implements the same generator bit for bit.
public struct SplitMix64: Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `next() % bound`, in `0..<bound` (bound ≥ 1; slightly biased for huge bounds, which is
    /// what the power-loss model and the simulator have always drawn).
    @inlinable
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound >= 1, "bound \(bound)")
        return Int(next() % UInt64(bound))
    }
}
