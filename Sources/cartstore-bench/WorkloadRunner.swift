import CartStorage

/// What every thread of one workload shares (immutable).
struct WorkloadContext: Sendable {
    let engine: StorageEngine
    let workload: Workload
    let keys: KeyFormatter
    let values: ValueSource
    let valueSize: Int
    /// Size of the key space: keys are `0..<num`.
    let num: Int
    /// Operations of the whole workload, split across threads.
    let ops: Int
    let threads: Int
    /// Seeds of this workload's threads: `seedBase + thread`.
    let seedBase: UInt64
    /// `fillrandom`'s key order (empty for other workloads).
    let order: [UInt32]
    /// `readwhilewriting`: readers still running (the writer stops when none is left).
    let readersRunning: ReadersRunning?

    /// The share of `0..<total` that thread `t` handles.
    func share(_ total: Int, _ t: Int) -> Range<Int> {
        (total * t / threads)..<(total * (t + 1) / threads)
    }

    /// Runs thread `t`'s share of the workload; a storage error ends the thread's share and is
    /// returned in the result.
    func run(thread t: Int) -> ThreadStats {
        var stats = ThreadStats()
        do {
            switch workload {
            case .fillseq, .fillrandom, .overwrite, .fillsync: try write(t, &stats)
            case .readrandom, .readmissing: try read(t, &stats)
            case .readwhilewriting:
                if t == threads {
                    try writeWhileReading(&stats)
                } else {
                    defer { readersRunning?.finished() }
                    try read(t, &stats)
                    stats.endNanoseconds = monotonicNanoseconds()
                }
            case .readseq: try readSequential(t, &stats)
            case .seekrandom: try seek(t, &stats)
            case .compact:
                guard t == 0 else { break }
                let start = monotonicNanoseconds()
                try engine.compactAll()
                stats.recordOp(since: start)
            }
        } catch {
            stats.error = error
        }
        return stats
    }

    private func write(_ t: Int, _ stats: inout ThreadStats) throws(StorageError) {
        var key = keys.makeBuffer()
        var cursor = ValueSource.Cursor(source: values)
        var rng = SplitMix64(seed: seedBase &+ UInt64(t))
        let entryBytes = keys.keySize + valueSize
        for i in share(ops, t) {
            let index: UInt64
            switch workload {
            case .fillseq: index = UInt64(i)
            case .fillrandom: index = UInt64(order[i])
            default: index = rng.uniform(UInt64(num))
            }
            keys.fill(&key, index: index)
            let value = cursor.next(valueSize)
            let start = monotonicNanoseconds()
            try engine.put(key, value)
            stats.recordOp(since: start)
            stats.bytes += entryBytes
        }
    }

    /// The writer of `readwhilewriting` (thread index `threads`): puts random keys, each
    /// durable, until every reader has finished; a put in progress then completes.
    private func writeWhileReading(_ stats: inout ThreadStats) throws(StorageError) {
        var key = keys.makeBuffer()
        var cursor = ValueSource.Cursor(source: values)
        var rng = SplitMix64(seed: seedBase &+ UInt64(threads))
        while readersRunning?.any ?? false {
            keys.fill(&key, index: rng.uniform(UInt64(num)))
            try engine.put(key, cursor.next(valueSize))
            stats.ops += 1
        }
    }

    private func read(_ t: Int, _ stats: inout ThreadStats) throws(StorageError) {
        var key = keys.makeBuffer()
        var rng = SplitMix64(seed: seedBase &+ UInt64(t))
        let missing = workload == .readmissing
        for _ in share(ops, t) {
            let index = rng.uniform(UInt64(num))
            if missing { keys.fillMissing(&key, index: index) } else { keys.fill(&key, index: index) }
            let start = monotonicNanoseconds()
            let value = try engine.get(key)
            stats.recordOp(since: start)
            if let value {
                stats.found += 1
                stats.bytes += key.count + value.count
            }
        }
    }

    private func seek(_ t: Int, _ stats: inout ThreadStats) throws(StorageError) {
        var key = keys.makeBuffer()
        var rng = SplitMix64(seed: seedBase &+ UInt64(t))
        for _ in share(ops, t) {
            keys.fill(&key, index: rng.uniform(UInt64(num)))
            let start = monotonicNanoseconds()
            let it = try engine.scan(from: key, to: nil)
            let entry = try it.nextEntry()
            stats.recordOp(since: start)
            if let entry {
                stats.found += 1
                stats.bytes += entry.key.count + entry.value.count
            }
        }
    }

    /// Thread `t` scans its share of the key range (the first and last shares are open-ended,
    /// so keys outside `0..<num` are read too), up to its share of `ops` entries.
    private func readSequential(_ t: Int, _ stats: inout ThreadStats) throws(StorageError) {
        let range = share(num, t)
        let limit = share(ops, t).count
        let from: [UInt8]? = t == 0 ? nil : keys.key(UInt64(range.lowerBound))
        let to: [UInt8]? = t == threads - 1 ? nil : keys.key(UInt64(range.upperBound))
        var start = monotonicNanoseconds()
        let it = try engine.scan(from: from, to: to)
        // Zero-copy visit, as db_bench's iterator hands out slices.
        try it.forEach { key, value in
            stats.recordOp(since: start)
            stats.found += 1
            stats.bytes += key.count + value.count
            start = monotonicNanoseconds()
            return stats.ops < limit
        }
    }
}
