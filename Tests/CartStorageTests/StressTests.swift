import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// A bounded multi-threaded stress run on a real directory (thread mode, tiny memtables and
/// levels, so flushes, trivial moves and compactions never stop): writers of atomic groups,
/// point readers, snapshot scanners, a slow scan held across everything, and a thread that
/// flushes, compacts and waits at random. Checked continuously: every group (four keys written
/// by one batch) is seen whole by every scan; a reader never sees a group go back to an older
/// version; the long scan sees every group exactly once. At the end: reopened, every group holds
/// its last acknowledged version, no file is left that the state does not name, and every
/// checksum verifies.
///
/// Threads are not deterministic: the seed fixes the configuration and each thread's choices,
/// not their interleaving. `CARTSTORE_STRESS_BATCHES` (default 1200 per writer) runs longer.
@Suite("Concurrent stress")
struct StressTests {
    static let writers = 3
    static let groupsPerWriter = 40
    static let keysPerGroup = 4

    static func key(_ w: Int, _ g: Int, _ m: Int) -> String { "g\(w)-\(format6(g))-\(m)" }

    static func value(_ w: Int, _ g: Int, _ version: Int, padding: Int) -> [UInt8] {
        Array("v\(version);w\(w)g\(g);".utf8) + [UInt8](repeating: UInt8(ascii: "p"), count: padding)
    }

    /// The version a value carries.
    static func version(_ value: [UInt8]) -> Int? {
        guard value.first == UInt8(ascii: "v"), let end = value.firstIndex(of: UInt8(ascii: ";")) else { return nil }
        return Int(String(decoding: value[1..<end], as: UTF8.self))
    }

    @Test func concurrentGroupsReadsScansAndCompactionsStayConsistent() throws {
        let seed = SeededRandom.seed(default: 4_242_026)
        let batches = Int(ProcessInfo.processInfo.environment["CARTSTORE_STRESS_BATCHES"] ?? "") ?? 1200
        var r = SeededRandom(seed: seed)
        var o = StorageOptions()
        o.memtableBytes = r.pick([4096, 8192, 16 * 1024])
        o.blockBytes = r.pick([256, 1024])
        o.compression = r.chance(50) ? .none : .zlib(level: 1)
        o.level0CompactionTrigger = 2
        o.level0StopWritesTrigger = 6
        o.levelBaseBytes = 64 * 1024
        o.levelSizeMultiplier = 2 + r.below(3)
        o.targetSegmentBytes = 16 * 1024
        o.blockCacheBytes = r.pick([0, 128 * 1024])
        o.maxOpenFiles = r.pick([3, 16])
        o.sync = .none
        o.logger.logLevel = .critical
        let repro = "CARTSTORE_SEED=\(seed) swift test --filter concurrentGroupsReadsScansAndCompactionsStayConsistent"
        print("stress seed=\(seed) batches/writer=\(batches) memtable=\(o.memtableBytes) block=\(o.blockBytes) compression=\(o.compression) cache=\(o.blockCacheBytes) maxOpenFiles=\(o.maxOpenFiles) (replay: \(repro))")
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: o)
        // Every group exists before the threads start (version 0).
        for w in 0..<Self.writers {
            for g in 0..<Self.groupsPerWriter {
                var b = WriteBatch()
                for m in 0..<Self.keysPerGroup { b.put(Self.key(w, g, m).bytes, Self.value(w, g, 0, padding: 20)) }
                try e.write(b)
            }
        }

        let failures = LockedBox<[String]>([])
        let writersLeft = LockedBox(Self.writers)
        let counts = LockedBox<[String: Int]>([:])
        @Sendable func fail(_ s: String) { failures.mutate { if $0.count < 10 { $0.append(s) } } }
        @Sendable func stopped() -> Bool { !failures.value.isEmpty || writersLeft.value == 0 }
        @Sendable func count(_ what: String, _ n: Int = 1) { counts.mutate { $0[what, default: 0] += n } }

        // Writers: each owns its groups; the last acknowledged version of each is its model.
        let finalVersions = LockedBox<[[Int]]>(Array(repeating: Array(repeating: 0, count: Self.groupsPerWriter), count: Self.writers))
        var threads: [DispatchSemaphore] = []
        for w in 0..<Self.writers {
            let writerSeed = r.next()
            threads.append(EngineLifecycleTests.thread {
                var rr = SeededRandom(seed: writerSeed)
                var versions = Array(repeating: 0, count: Self.groupsPerWriter)
                for _ in 0..<batches where failures.value.isEmpty {
                    let g = rr.below(Self.groupsPerWriter)
                    let v = versions[g] + 1
                    let padding = rr.chance(5) ? rr.below(2000) : rr.below(120)
                    var b = WriteBatch()
                    for m in 0..<Self.keysPerGroup { b.put(Self.key(w, g, m).bytes, Self.value(w, g, v, padding: padding)) }
                    // Churn: unrelated keys put and deleted in the same batch.
                    let churn = "c\(w)-\(rr.below(50))"
                    if rr.chance(30) { b.delete(churn.bytes) } else { b.put(churn.bytes, rr.bytes(rr.below(64))) }
                    do { try e.write(b) } catch {
                        fail("writer \(w): \(error)")
                        break
                    }
                    versions[g] = v
                }
                finalVersions.mutate { $0[w] = versions }
                count("batches", versions.reduce(0, +))
                writersLeft.mutate { $0 -= 1 }
            })
        }

        // Point readers: a group never goes back to an older version.
        for reader in 0..<2 {
            let readerSeed = r.next()
            threads.append(EngineLifecycleTests.thread {
                var rr = SeededRandom(seed: readerSeed)
                var seen = Array(repeating: Array(repeating: 0, count: Self.groupsPerWriter), count: Self.writers)
                while !stopped() {
                    let w = rr.below(Self.writers), g = rr.below(Self.groupsPerWriter), m = rr.below(Self.keysPerGroup)
                    do {
                        guard let value = try e.get(Self.key(w, g, m).bytes), let v = Self.version(value) else {
                            fail("reader \(reader): \(Self.key(w, g, m)) missing or unreadable")
                            return
                        }
                        if v < seen[w][g] { fail("reader \(reader): \(Self.key(w, g, m)) went back from version \(seen[w][g]) to \(v)") }
                        seen[w][g] = v
                        count("gets")
                    } catch {
                        fail("reader \(reader): \(error)")
                    }
                }
            })
        }

        // Snapshot scanners: every group whole, never older than seen before.
        let scannerSeed = r.next()
        threads.append(EngineLifecycleTests.thread {
            var rr = SeededRandom(seed: scannerSeed)
            var seen = Array(repeating: Array(repeating: 0, count: Self.groupsPerWriter), count: Self.writers)
            while !stopped() {
                let w = rr.below(Self.writers)
                let lo = rr.below(Self.groupsPerWriter)
                let hi = min(Self.groupsPerWriter, lo + 1 + rr.below(8))
                do {
                    let rows = try e.scan(from: "g\(w)-\(format6(lo))".bytes, to: "g\(w)-\(format6(hi))".bytes).collect()
                    guard rows.count == (hi - lo) * Self.keysPerGroup else {
                        fail("scanner: groups \(lo)..<\(hi) of writer \(w) returned \(rows.count) keys")
                        return
                    }
                    for (i, g) in (lo..<hi).enumerated() {
                        let group = rows[(i * Self.keysPerGroup)..<((i + 1) * Self.keysPerGroup)]
                        let values = Set(group.map(\.value))
                        guard values.count == 1, let v = group.first.flatMap({ Self.version($0.value) }) else {
                            fail("scanner: group \(g) of writer \(w) is not whole in one snapshot: \(group.map { Self.version($0.value) ?? -1 })")
                            return
                        }
                        if v < seen[w][g] { fail("scanner: group \(g) of writer \(w) went back from \(seen[w][g]) to \(v)") }
                        seen[w][g] = v
                    }
                    count("scans")
                } catch {
                    fail("scanner: \(error)")
                }
            }
        })

        // A long, slow scan held across flushes, trivial moves and compactions.
        threads.append(EngineLifecycleTests.thread {
            var passes = 0
            while !stopped() {
                do {
                    let it = try e.scan(from: "g".bytes, to: "h".bytes)
                    var groups = 0
                    var current: [[UInt8]] = []
                    while let (_, v) = try it.nextEntry() {
                        // Slow, and paused inside groups: writes, flushes and compactions happen
                        // between the keys of one group, which the snapshot must not show.
                        if groups % 5 == 0 && current.count == 1 { usleep(2000) }
                        current.append(v)
                        if current.count == Self.keysPerGroup {
                            if Set(current).count != 1 { fail("long scan: a group is not whole: \(current.map { Self.version($0) ?? -1 })") }
                            current = []
                            groups += 1
                        }
                    }
                    if groups != Self.writers * Self.groupsPerWriter || !current.isEmpty {
                        fail("long scan saw \(groups) groups (+\(current.count) keys), expected \(Self.writers * Self.groupsPerWriter)")
                    }
                    passes += 1
                } catch {
                    fail("long scan: \(error)")
                }
            }
            count("long scans", passes)
        })

        // Chaos: flushes, full compactions, waits.
        let chaosSeed = r.next()
        threads.append(EngineLifecycleTests.thread {
            var rr = SeededRandom(seed: chaosSeed)
            while !stopped() {
                do {
                    switch rr.below(10) {
                    case 0..<5: try e.flush()
                    case 5..<7: try e.compactAll()
                    default: try e.waitForBackgroundWork()
                    }
                    count("chaos")
                } catch {
                    fail("chaos: \(error)")
                }
                usleep(UInt32(1000 + rr.below(20_000)))
            }
        })

        for t in threads {
            if t.wait(timeout: .now() + 300) != .success { fail("a thread did not finish within 300 s") }
        }
        let s = e.stats()
        print("stress: \(counts.value.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); flushes \(s.flushCount), compactions \(s.compactionCount), stalls \(s.stallCount), levels \(s.segmentsPerLevel)")
        #expect(failures.value.isEmpty, "\(failures.value)\nreproduce with: \(repro)")
        try e.close()

        let reopened = try StorageEngine.open(dir.path, options: o)
        defer { try? reopened.close() }
        try reopened.waitForBackgroundWork() // no compaction output half-written while we look
        for w in 0..<Self.writers {
            for g in 0..<Self.groupsPerWriter {
                let want = finalVersions.value[w][g]
                for m in 0..<Self.keysPerGroup {
                    let got = try reopened.get(Self.key(w, g, m).bytes).flatMap(Self.version)
                    if got != want {
                        Issue.record("after reopen \(Self.key(w, g, m)) has version \(got.map(String.init) ?? "none"), acknowledged \(want)\nreproduce with: \(repro)")
                        return
                    }
                }
            }
        }
        let problems = FaultHarness.directoryProblems(reopened, fileSystem: PosixFileSystem())
        #expect(problems.isEmpty, "\(problems)")
    }
}
