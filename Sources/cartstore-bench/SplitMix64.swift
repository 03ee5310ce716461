import CartStorage

/// The benchmark's draws from the project's generator (`CartStorage.SplitMix64`): it is the
/// only random source of the benchmark, so that a seed fixes every key order, bit for bit the
/// same as `Benchmarks/peers/leveldb_bench.cc`.
extension SplitMix64 {
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
