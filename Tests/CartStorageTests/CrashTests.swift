import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// Real processes killed with SIGKILL while writing: every acknowledged batch must survive, and
/// no batch may be half-visible.
@Suite("Crash recovery (SIGKILL)", .serialized)
struct CrashTests {
    static var helper: String { BuiltProducts.path("cartstore-crash-helper") }

    static func readOptions() -> StorageOptions {
        var o = StorageOptions()
        o.logger.logLevel = .error
        return o
    }

    /// The keys of `thread` as stored.
    static func threadState(_ engine: StorageEngine, thread: Int) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let prefix = "t\(thread)-"
        for (k, v) in try engine.scan(from: Array(prefix.utf8), to: Array("t\(thread).".utf8)).collect() {
            out[String(decoding: k, as: UTF8.self)] = v
        }
        return out
    }

    @Test func killedWriterLosesNoAcknowledgedWrite() throws {
        try Self.crashRounds(name: "killedWriterLosesNoAcknowledgedWrite", defaultSeed: 424242, defaultRounds: 24, environment: [:])
    }

    /// The same check with tiny levels, so that most kills land while a compaction (or the
    /// flush it lets run first) is writing, installing or deleting segments; afterwards no
    /// segment file that the manifest does not name may remain.
    @Test func killedDuringCompactionLosesNothingAndLeaksNoFile() throws {
        try Self.crashRounds(name: "killedDuringCompactionLosesNothingAndLeaksNoFile", defaultSeed: 77_001, defaultRounds: 12,
                             environment: ["CARTSTORE_HELPER_LEVEL_BASE": "65536"])
    }

    static func crashRounds(name: String, defaultSeed: UInt64, defaultRounds: Int, environment: [String: String]) throws {
        let seed = SeededRandom.seed(default: defaultSeed)
        let rounds = Int(ProcessInfo.processInfo.environment["CARTSTORE_CRASH_ROUNDS"] ?? "") ?? defaultRounds
        let repro = "CARTSTORE_SEED=\(seed) swift test --filter \(name)"
        print("\(name) seed=\(seed) rounds=\(rounds) (replay: \(repro))")
        var r = SeededRandom(seed: seed)
        let dir = TestDirectory()
        defer { dir.remove() }
        let threads = 4
        var model: [Int: [String: [UInt8]]] = [:]
        var totalAcks = 0
        for round in 0..<rounds {
            let roundSeed = r.next()
            let killAfter = Int(r.next() % 300) + 1
            let memtable = [4096, 16 * 1024, 64 * 1024][Int(r.next() % 3)]
            let child = try ChildProcess(Self.helper, [dir.path, String(roundSeed), String(threads), String(memtable)],
                                         environment: environment)
            defer { child.stop() }
            var acked = [Int](repeating: -1, count: threads)
            var count = 0
            let deadline = Date().addingTimeInterval(60)
            var killed = false
            while let line = child.readLine(deadline: deadline) {
                let parts = line.split(separator: " ")
                if parts.first == "ACK", parts.count == 3, let t = Int(parts[1]), let n = Int(parts[2]) {
                    #expect(n == acked[t] + 1, "acks of a thread arrive in order")
                    acked[t] = n
                    count += 1
                    if count == killAfter && !killed { child.kill(); killed = true }
                } else if parts.first == "ERROR" {
                    Issue.record("helper failed: \(line) (\(repro))")
                }
            }
            child.stop()
            #expect(killed, "round \(round): helper ended before \(killAfter) acks (\(repro))")
            totalAcks += count

            var readOptions = Self.readOptions()
            readOptions.compactionEnabled = false
            let engine = try StorageEngine.open(dir.path, options: readOptions)
            // No orphan: every segment on disk is live after recovery.
            let live = Set(engine.liveSegments().map { FileNames.segment($0.fileNumber) })
            let onDisk = Set(((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".seg") })
            if round == rounds - 1 {
                let levels = Dictionary(grouping: engine.liveSegments(), by: \.level).mapValues(\.count)
                print("\(name): segments per level after the last round: \(levels.sorted { $0.key < $1.key })")
            }
            #expect(onDisk == live, "round \(round): segment files not named by the manifest: \(onDisk.subtracting(live).sorted()) (\(repro))")
            let workload = CrashWorkload(seed: roundSeed)
            for t in 0..<threads {
                var expected = model[t] ?? [:]
                if acked[t] >= 0 { for n in 0...acked[t] { workload.apply(thread: t, number: n, to: &expected) } }
                var withInFlight = expected
                workload.apply(thread: t, number: acked[t] + 1, to: &withInFlight)
                let actual = try Self.threadState(engine, thread: t)
                let ok = actual == expected || actual == withInFlight
                #expect(ok, "round \(round) thread \(t): state after SIGKILL matches neither acked batches 0...\(acked[t]) nor those plus the in-flight batch; \(actual.count) keys vs \(expected.count) expected (\(repro))")
                if !ok {
                    for k in Set(expected.keys).union(actual.keys).sorted() where expected[k] != actual[k] {
                        print("  \(k): expected \(expected[k].map { String(decoding: $0.prefix(24), as: UTF8.self) } ?? "nil"), actual \(actual[k].map { String(decoding: $0.prefix(24), as: UTF8.self) } ?? "nil")")
                    }
                    try engine.close()
                    return
                }
                model[t] = actual
            }
            try engine.close()
            // Only engine files remain after recovery.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
                #expect(FileNames.parse(name) != nil && FileNames.parse(name) != .temporary, "unexpected file \(name)")
            }
        }
        print("\(name): \(rounds) SIGKILL rounds, \(totalAcks) acknowledged batches checked")
    }

    @Test func secondOpenFromAnotherProcessIsRefusedWithItsPid() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let child = try ChildProcess(Self.helper, [dir.path, "1", "1", "65536", "1000000"])
        defer { child.stop() }
        let ready = child.readLine(deadline: Date().addingTimeInterval(30))
        #expect(ready?.hasPrefix("READY") == true)
        do {
            let e = try StorageEngine.open(dir.path, options: Self.readOptions())
            try e.close()
            Issue.record("open succeeded while another process holds the directory")
        } catch {
            #expect(error == .locked(directory: dir.path, holderPID: child.pid))
            print("refused as expected: \(error)")
        }
        child.stop()
        // Once the holder is dead the lock is free again.
        let e = try StorageEngine.open(dir.path, options: Self.readOptions())
        try e.close()
    }
}
