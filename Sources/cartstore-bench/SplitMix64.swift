/// SplitMix64 (Steele, Lea, Flood 2014): the only random source of the benchmark, so that a
/// seed fixes every key order. `Benchmarks/peers/leveldb_bench.cc` implements the same
/// generator bit for bit, so both tools issue the same keys in the same order.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (Lemire's multiply-high; n > 0).
    @inline(__always)
    mutating func uniform(_ n: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: n).high
    }

    /// The seed of thread `thread` in the `workloadIndex`-th workload of a run.
    static func threadSeed(base: UInt64, workloadIndex: Int, thread: Int) -> UInt64 {
        base &+ UInt64(1000 * workloadIndex + thread)
    }

    /// A permutation of `0..<count` (Fisher–Yates), used by `fillrandom` for unique keys in
    /// random order.
    static func shuffled(count: Int, seed: UInt64) -> [UInt32] {
        var order = [UInt32](unsafeUninitializedCapacity: count) { buf, initialized in
            for i in 0..<count { buf[i] = UInt32(truncatingIfNeeded: i) }
            initialized = count
        }
        var rng = SplitMix64(seed: seed)
        order.withUnsafeMutableBufferPointer { buf in
            var i = count - 1
            while i > 0 {
                let j = Int(rng.uniform(UInt64(i + 1)))
                buf.swapAt(i, j)
                i -= 1
            }
        }
        return order
    }
}
