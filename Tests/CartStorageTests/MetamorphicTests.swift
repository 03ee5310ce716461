import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// Model-based randomized test of the engine (Pebble's metamorphic tests are the model): from a
/// seed, draw a configuration and a sequence of operations, run them on the engine and on an
/// in-memory ordered model, and compare every read. On failure it prints the seed, the
/// configuration, the tail of the op log and the command that replays the run.
@Suite("Metamorphic engine test", .serialized)
struct MetamorphicTests {
    struct Config: CustomStringConvertible {
        var options: StorageOptions
        var keySpace: Int
        var description: String {
            "memtable=\(options.memtableBytes) block=\(options.blockBytes) compression=\(options.compression) l0Trigger=\(options.level0CompactionTrigger) l0Stop=\(options.level0StopWritesTrigger) levelBase=\(options.levelBaseBytes) segment=\(options.targetSegmentBytes) cache=\(options.blockCacheBytes) manifestRollover=\(options.manifestRolloverBytes) keys=\(keySpace)"
        }
    }

    static func config(_ r: inout SeededRandom) -> Config {
        var o = StorageOptions()
        o.logger.logLevel = .critical
        o.memtableBytes = [4096, 8192, 32 * 1024, 128 * 1024][Int(r.next() % 4)]
        o.blockBytes = [256, 1024, 4096][Int(r.next() % 3)]
        o.compression = r.next() % 2 == 0 ? .none : .zlib(level: 1)
        o.level0CompactionTrigger = Int(r.next() % 3) + 2
        o.level0StopWritesTrigger = o.level0CompactionTrigger + Int(r.next() % 6) + 2
        o.levelBaseBytes = [64 * 1024, 128 * 1024, 512 * 1024][Int(r.next() % 3)]
        o.levelSizeMultiplier = Int(r.next() % 4) + 2
        o.targetSegmentBytes = [16 * 1024, 32 * 1024, 128 * 1024][Int(r.next() % 3)]
        o.blockCacheBytes = [0, 64 * 1024, 1 << 20][Int(r.next() % 3)]
        o.bloomBitsPerKey = [1, 10][Int(r.next() % 2)]
        o.manifestRolloverBytes = [1024, 4096, 4 << 20][Int(r.next() % 3)]
        return Config(options: o, keySpace: [50, 500, 3000][Int(r.next() % 3)])
    }

    final class Run {
        let seed: UInt64
        let config: Config
        let dir: TestDirectory
        var engine: StorageEngine
        var model: [String: [UInt8]] = [:]
        var log: [String] = []
        var r: SeededRandom

        init(seed: UInt64) throws {
            self.seed = seed
            r = SeededRandom(seed: seed)
            config = MetamorphicTests.config(&r)
            dir = TestDirectory("meta\(seed)")
            engine = try StorageEngine.open(dir.path, options: config.options)
        }

        func key() -> String { "k\(format6(Int(r.next() % UInt64(config.keySpace))))" }

        func value(_ step: Int) -> [UInt8] {
            let n = r.next() % 10 == 0 ? Int(r.next() % 3000) : Int(r.next() % 100)
            var v = Array("s\(step)-".utf8)
            for i in 0..<n { v.append(UInt8(truncatingIfNeeded: i &* 7) | (i % 3 == 0 ? UInt8(truncatingIfNeeded: r.next()) : 0)) }
            return v
        }

        func fail(_ what: String) {
            let tail = log.suffix(25).joined(separator: "\n  ")
            Issue.record("""
                metamorphic failure: \(what)
                SEED=\(seed) config: \(config)
                last ops:
                  \(tail)
                reproduce with: CARTSTORE_SEED=\(seed) swift test --filter MetamorphicTests
                """)
        }

        /// Executes one random op; returns false after a reported failure.
        func step(_ i: Int) throws -> Bool {
            let roll = r.next() % 1000
            switch roll {
            case 0..<400:
                let k = key(), v = value(i)
                log.append("put \(k) (\(v.count) bytes)")
                try engine.put(k.bytes, v)
                model[k] = v
            case 400..<500:
                let k = key()
                log.append("delete \(k)")
                try engine.delete(k.bytes)
                model[k] = nil
            case 500..<560:
                var b = WriteBatch()
                var desc: [String] = []
                for _ in 0..<(Int(r.next() % 8) + 1) {
                    let k = key()
                    if r.next() % 3 == 0 { b.delete(k.bytes); model[k] = nil; desc.append("-\(k)") }
                    else { let v = value(i); b.put(k.bytes, v); model[k] = v; desc.append("+\(k)") }
                }
                log.append("batch \(desc.joined(separator: " "))")
                try engine.write(b)
            case 560..<860:
                let k = key()
                log.append("get \(k)")
                let got = try engine.get(k.bytes)
                if got != model[k] {
                    fail("get \(k) returned \(got.map { "\($0.count) bytes" } ?? "nil"), model has \(model[k].map { "\($0.count) bytes" } ?? "nil")")
                    return false
                }
            case 860..<940:
                let lo = key(), hi = key()
                let (a, b) = lo <= hi ? (lo, hi) : (hi, lo)
                let limit = Int(r.next() % 50) + 1
                log.append("scan [\(a), \(b)) limit \(limit)")
                var got: [(key: [UInt8], value: [UInt8])] = []
                if r.next() % 2 == 0 {
                    got = try engine.scan(from: a.bytes, to: b.bytes).collect(limit: limit)
                } else {
                    try engine.scan(from: a.bytes, to: b.bytes).forEach { k, v in
                        got.append((Array(k), Array(v)))
                        return got.count < limit
                    }
                }
                let want = model.keys.filter { $0 >= a && $0 < b }.sorted().prefix(limit)
                let gotKeys = got.map { String(decoding: $0.key, as: UTF8.self) }
                if gotKeys != Array(want) || zip(got, want).contains(where: { $0.value != model[$1] }) {
                    fail("scan [\(a), \(b)) returned \(gotKeys.count) keys \(gotKeys.prefix(5)), model \(want.count) \(want.prefix(5))")
                    return false
                }
            case 940..<960:
                log.append("flush")
                try engine.flush()
            case 960..<975:
                if r.next() % 2 == 0 {
                    log.append("compact (wait for background work)")
                    try engine.flush()
                    try engine.waitForBackgroundWork()
                } else {
                    log.append("compactAll")
                    try engine.compactAll()
                }
            case 975..<990:
                log.append("close/reopen")
                try engine.close()
                engine = try StorageEngine.open(dir.path, options: config.options)
            default:
                log.append("crash/reopen")
                return try crashAndReopen(i)
            }
            return true
        }

        /// Hands the directory to the crash helper, kills it with SIGKILL after a few
        /// acknowledged batches, reopens, and checks both the helper's keys (acknowledged
        /// batches present, nothing half-applied) and every model key.
        func crashAndReopen(_ step: Int) throws -> Bool {
            try engine.close()
            let helperSeed = r.next()
            let killAfter = Int(r.next() % 40) + 1
            let child = try ChildProcess(BuiltProducts.path("cartstore-crash-helper"),
                                         [dir.path, String(helperSeed), "2", String(config.options.memtableBytes)])
            defer { child.stop() }
            var acked = [-1, -1]
            var count = 0
            while let line = child.readLine(deadline: Date().addingTimeInterval(30)) {
                let p = line.split(separator: " ")
                if p.first == "ACK", p.count == 3, let t = Int(p[1]), let n = Int(p[2]) {
                    acked[t] = n
                    count += 1
                    if count == killAfter { child.kill() }
                }
            }
            child.stop()
            engine = try StorageEngine.open(dir.path, options: config.options)
            let workload = CrashWorkload(seed: helperSeed)
            for t in 0..<2 {
                let onDisk = try CrashTests.threadState(engine, thread: t)
                var base = helperModel[t] ?? [:]
                if acked[t] >= 0 { for n in 0...acked[t] { workload.apply(thread: t, number: n, to: &base) } }
                var inFlight = base
                workload.apply(thread: t, number: acked[t] + 1, to: &inFlight)
                if onDisk != base && onDisk != inFlight {
                    fail("after SIGKILL (step \(step)), helper thread \(t) state matches neither \(acked[t] + 1) acknowledged batches nor those plus the in-flight one")
                    return false
                }
                helperModel[t] = onDisk
            }
            return true
        }
        var helperModel: [Int: [String: [UInt8]]] = [:]

        /// Final full comparison.
        func verifyAll() throws -> Bool {
            let all = try engine.scan(from: "k".bytes, to: "l".bytes).collect()
            let got = Dictionary(uniqueKeysWithValues: all.map { (String(decoding: $0.key, as: UTF8.self), $0.value) })
            if got != model {
                fail("final scan has \(got.count) keys, model \(model.count); differing: \(Set(got.keys).symmetricDifference(model.keys).sorted().prefix(5))")
                return false
            }
            return true
        }
    }

    @Test func randomHistoriesMatchTheModel() throws {
        let env = ProcessInfo.processInfo.environment
        let runs = Int(env["CARTSTORE_METAMORPHIC_RUNS"] ?? "") ?? 6
        let opsPerRun = Int(env["CARTSTORE_METAMORPHIC_OPS"] ?? "") ?? 2500
        let fixed = env["CARTSTORE_SEED"].flatMap(UInt64.init)
        var seeds: [UInt64] = []
        var r = SeededRandom(seed: 0xC0FFEE)
        for _ in 0..<runs { seeds.append(r.next() % 1_000_000_000) }
        if let fixed { seeds = [fixed] }
        for seed in seeds {
            let run = try Run(seed: seed)
            print("metamorphic SEED=\(seed) config: \(run.config)")
            defer { try? run.engine.close(); run.dir.remove() }
            var ok = true
            for i in 0..<opsPerRun where ok { ok = try run.step(i) }
            if ok { ok = try run.verifyAll() }
            let s = run.engine.stats()
            print("  \(opsPerRun) ops ok=\(ok); levels \(s.segmentsPerLevel), compactions \(s.compactionCount), flushes \(s.flushCount)")
            if !ok { return }
        }
    }
}
