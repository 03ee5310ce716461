import Benchmark
import CartStorage

// Hot paths of the storage engine, through `_StorageBenchmarkHooks` (benchmark-only).
// Inputs are built once, outside the measured closures. Only wall clock, throughput and malloc
// counts are measured: package-benchmark's ARC metrics crash on Linux with Swift 6.3.
//
// Sizes follow the engine's defaults and bench-vs-peers: 24-byte user keys (+ 8-byte trailer),
// 256-byte values, 16 KiB blocks, 10 bloom bits per key.

/// db_bench-style user key: the index as 16 zero-padded digits, padded with "0" to 24 bytes.
private func userKey(_ i: Int) -> [UInt8] {
    let digits = String(i)
    return Array((String(repeating: "0", count: 16 - digits.count) + digits + "00000000").utf8)
}

private let keySize = 24
private let valueSize = 256
/// Entries of one 16 KiB block: each takes about 3 + 32 + 256 bytes.
private let blockEntries = 56
private let blockKeys = (0..<blockEntries).map { _StorageBenchmarkHooks.internalKey(userKey: userKey($0 * 7), sequence: 1000) }
private let blockValues = (0..<blockEntries).map { i in [UInt8](repeating: UInt8(truncatingIfNeeded: 32 + i), count: valueSize) }
private let block = _StorageBenchmarkHooks.buildBlock(keys: blockKeys, values: blockValues)
/// Seek targets between and on the block's keys.
private let blockTargets = (0..<blockEntries).map { _StorageBenchmarkHooks.internalKey(userKey: userKey($0 * 7 + ($0 & 1) * 3), sequence: 1000) }

private let bloomKeyCount = 10_000
private let bloomFilter = _StorageBenchmarkHooks.bloomFilter(keys: (0..<bloomKeyCount).map { userKey($0 * 2) })
/// 1000 probes: half present (even indices), half absent (odd indices).
private let bloomProbes = (0..<1000).map { userKey($0 * 20 + ($0 & 1)) }

private let crcSmall = [UInt8](repeating: 0xA5, count: 300)
private let crcBlock = block

/// 1000 comparisons: pairs differing in the last digit of the user key, and equal user keys
/// differing only in sequence (the trailer decides).
private let comparePairs: [([UInt8], [UInt8])] = (0..<1000).map { i in
    let a = _StorageBenchmarkHooks.internalKey(userKey: userKey(i), sequence: 7)
    let b = i & 1 == 0
        ? _StorageBenchmarkHooks.internalKey(userKey: userKey(i + 1), sequence: 7)
        : _StorageBenchmarkHooks.internalKey(userKey: userKey(i), sequence: 9)
    return (a, b)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("Memtable insert, 10k puts (24 B key, 256 B value) into a fresh memtable") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(_StorageBenchmarkHooks.memtableInsert(count: 10_000, keySize: keySize, valueSize: valueSize))
        }
    }

    Benchmark("Block encode, 56 entries (16 KiB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(_StorageBenchmarkHooks.buildBlock(keys: blockKeys, values: blockValues))
        }
    }

    Benchmark("Block decode, walk 56 entries (16 KiB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try _StorageBenchmarkHooks.decodeBlock(block))
        }
    }

    Benchmark("Block seek, 56 seeks in a 16 KiB block") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try _StorageBenchmarkHooks.seekBlock(block, targets: blockTargets))
        }
    }

    Benchmark("Bloom probe, 1000 keys (hash + probe; 10k-key filter, half absent)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(_StorageBenchmarkHooks.bloomProbe(filter: bloomFilter, keys: bloomProbes))
        }
    }

    Benchmark("CRC-32, 300 B") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(_StorageBenchmarkHooks.crc32(crcSmall))
        }
    }

    Benchmark("CRC-32, 16 KiB block") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(_StorageBenchmarkHooks.crc32(crcBlock))
        }
    }

    Benchmark("Internal key compare, 1000 pairs (32 B keys)") { benchmark in
        for _ in benchmark.scaledIterations {
            var sum = 0
            for (a, b) in comparePairs { sum &+= _StorageBenchmarkHooks.compareInternalKeys(a, b) }
            blackHole(sum)
        }
    }
}
