import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// What the power-loss and error-injection rounds share: a configuration drawn from a seed, a
/// seeded single-threaded workload over a manual-mode engine (so every file operation, and so
/// every fault, lands at the same place on replay), the model of acknowledged writes, and the
/// checks made after reopening.
enum FaultHarness {
    /// One write: the ops of a batch.
    enum Op: CustomStringConvertible {
        case put(String, [UInt8])
        case delete(String)

        var key: String {
            switch self {
            case let .put(k, _), let .delete(k): return k
            }
        }

        var description: String {
            switch self {
            case let .put(k, v): return "+\(k)(\(v.count))"
            case let .delete(k): return "-\(k)"
            }
        }
    }

    struct Config: CustomStringConvertible {
        var options: StorageOptions
        var keySpace: Int
        var steps: Int

        var description: String {
            let o = options
            return "sync=\(o.sync) memtable=\(o.memtableBytes) block=\(o.blockBytes) compression=\(o.compression) l0=\(o.level0CompactionTrigger)/\(o.level0StopWritesTrigger) levelBase=\(o.levelBaseBytes) segment=\(o.targetSegmentBytes) cache=\(o.blockCacheBytes) rollover=\(o.manifestRolloverBytes) maxOpenFiles=\(o.maxOpenFiles) keys=\(keySpace) steps=\(steps)"
        }

        static func draw(_ r: inout SeededRandom, sync: StorageOptions.SyncPolicy) -> Config {
            var o = StorageOptions()
            o.logger.logLevel = .critical
            o.backgroundMode = .manual
            o.sync = sync
            o.memtableBytes = r.pick([4096, 8192, 16 * 1024])
            o.blockBytes = r.pick([256, 1024, 4096])
            o.compression = r.chance(50) ? .none : .zlib(level: 1)
            o.level0CompactionTrigger = 2 + r.below(2)
            o.level0StopWritesTrigger = o.level0CompactionTrigger + 2 + r.below(3)
            o.levelBaseBytes = 64 * 1024
            o.levelSizeMultiplier = 2 + r.below(3)
            o.targetSegmentBytes = 16 * 1024
            o.blockCacheBytes = r.pick([0, 64 * 1024])
            o.maxOpenFiles = r.pick([2, 50])
            o.manifestRolloverBytes = r.pick([1024, 2048, 4 << 20])
            return Config(options: o, keySpace: r.pick([40, 200, 800]), steps: 150 + r.below(250))
        }
    }

    /// Acknowledged writes: the state they make, and per batch what it overwrote (to walk back
    /// to any earlier prefix).
    struct Model {
        var state: [String: [UInt8]] = [:]
        var undo: [[(key: String, old: [UInt8]?)]] = []
        /// Batches known durable (sync = always, or before a sync that covered them).
        var durableCount = 0

        mutating func apply(_ ops: [Op]) {
            var u: [(key: String, old: [UInt8]?)] = []
            for op in ops {
                u.append((op.key, state[op.key]))
                switch op {
                case let .put(k, v): state[k] = v
                case let .delete(k): state[k] = nil
                }
            }
            undo.append(u)
        }

        /// True if `recovered` is the state after the first `n` acknowledged batches, for some
        /// `n ≥ durableCount`, optionally followed by `pending` (a write whose outcome is unknown,
        /// which may land only after every acknowledged one).
        func explains(_ recovered: [String: [UInt8]], pending: [Op]?) -> Bool {
            var s = state
            var n = undo.count
            while true {
                if s == recovered { return true }
                if n == undo.count, let pending {
                    var withPending = s
                    for op in pending {
                        switch op {
                        case let .put(k, v): withPending[k] = v
                        case let .delete(k): withPending[k] = nil
                        }
                    }
                    if withPending == recovered { return true }
                }
                if n <= durableCount { return false }
                n -= 1
                for (k, old) in undo[n].reversed() { s[k] = old }
            }
        }
    }

    /// What one workload step did.
    enum StepResult {
        /// The step succeeded; `wrote` if it was an acknowledged write.
        case ok(wrote: Bool)
        /// A write failed: its outcome is unknown.
        case writeFailed([Op], StorageError)
        /// Another call failed (a read, flush, compaction).
        case failed(String, StorageError)
        /// A read disagreed with the model: a bug.
        case mismatch(String)
        case reopen
    }

    /// A seeded workload; `log` keeps a line per step for failure reports.
    final class Workload {
        let config: Config
        var r: SeededRandom
        var model = Model()
        var log: [String] = []

        init(config: Config, seed: UInt64) {
            self.config = config
            r = SeededRandom(seed: seed)
        }

        func key() -> String { "k\(format6(r.below(config.keySpace)))" }

        func value(_ step: Int) -> [UInt8] {
            let n = r.chance(5) ? r.below(3000) : r.below(120)
            return Array("s\(step)-".utf8) + r.bytes(n)
        }

        func writeOps(_ step: Int) -> [Op] {
            let roll = r.below(100)
            if roll < 65 { return [.put(key(), value(step))] }
            if roll < 82 { return [.delete(key())] }
            return (0..<(1 + r.below(6))).map { _ in r.chance(70) ? .put(key(), value(step)) : .delete(key()) }
        }

        /// Runs one step on `engine`; a write that returns is applied to the model.
        func step(_ engine: StorageEngine, _ i: Int) -> StepResult {
            let roll = r.below(1000)
            do throws(StorageError) {
                switch roll {
                case 0..<700:
                    let ops = writeOps(i)
                    log.append("\(i): write \(ops)")
                    var batch = WriteBatch()
                    for op in ops {
                        switch op {
                        case let .put(k, v): batch.put(k.bytes, v)
                        case let .delete(k): batch.delete(k.bytes)
                        }
                    }
                    do throws(StorageError) { try engine.write(batch) } catch { return .writeFailed(ops, error) }
                    model.apply(ops)
                    if engine.options.sync == .always { model.durableCount = model.undo.count }
                    return .ok(wrote: true)
                case 700..<850:
                    let k = key()
                    log.append("\(i): get \(k)")
                    let got = try engine.get(k.bytes)
                    if got != model.state[k] {
                        return .mismatch("get \(k) returned \(got.map { "\($0.count) bytes" } ?? "nil"), model has \(model.state[k].map { "\($0.count) bytes" } ?? "nil")")
                    }
                case 850..<900:
                    let a = key(), b = key()
                    let (lo, hi) = a <= b ? (a, b) : (b, a)
                    let limit = 1 + r.below(40)
                    log.append("\(i): scan [\(lo), \(hi)) limit \(limit)")
                    let got = try engine.scan(from: lo.bytes, to: hi.bytes).collect(limit: limit)
                    let want = model.state.keys.filter { $0 >= lo && $0 < hi }.sorted().prefix(limit)
                    let gotKeys = got.map { String(decoding: $0.key, as: UTF8.self) }
                    if gotKeys != Array(want) || zip(got, want).contains(where: { $0.value != model.state[$1] }) {
                        return .mismatch("scan [\(lo), \(hi)) returned \(gotKeys.prefix(4))…, model \(want.prefix(4))…")
                    }
                case 900..<940:
                    log.append("\(i): flush")
                    try engine.flush()
                    if engine.options.sync != .always { model.durableCount = model.undo.count }
                case 940..<985:
                    let steps = 1 + r.below(3)
                    log.append("\(i): runBackgroundWork(\(steps))")
                    try engine.runBackgroundWork(maxSteps: steps)
                case 985..<993:
                    log.append("\(i): compactAll")
                    try engine.compactAll()
                    if engine.options.sync != .always { model.durableCount = model.undo.count }
                default:
                    log.append("\(i): close/reopen")
                    return .reopen
                }
            } catch {
                return .failed(log.last ?? "?", error)
            }
            return .ok(wrote: false)
        }

        func tail(_ n: Int = 12) -> String { log.suffix(n).joined(separator: "\n    ") }
    }

    /// Reopens `/db` on `fileSystem` after a crash or a fault and checks it: the open succeeds,
    /// the contents are explained by `model` (with `pending` possibly applied), no file is left
    /// that the state does not name, and every checksum verifies. Returns a failure description
    /// (ending with `context`) or nil; `onSuccess` sees the reopened contents.
    static func checkReopen(fileSystem: any FileSystem, options: StorageOptions, model: Model, pending: [Op]?,
                            context: String, onSuccess: ([String: [UInt8]]) -> Void = { _ in }) throws -> String? {
        var options = options
        options.fileSystem = fileSystem
        let reopened: StorageEngine
        do { reopened = try StorageEngine.open("/db", options: options) } catch {
            return "reopen failed: \(error)\n  \(context)"
        }
        defer { try? reopened.close() }
        let got = try contents(reopened)
        guard model.explains(got, pending: pending) else {
            let differing = model.state.filter { got[$0.key] != $0.value }.map(\.key).sorted()
            return "recovered \(got.count) keys, which no prefix of the \(model.undo.count) acknowledged writes (\(model.durableCount) durable) explains; differing from all acknowledged: \(differing.prefix(8))\n  \(context)"
        }
        let problems = directoryProblems(reopened, fileSystem: fileSystem)
        guard problems.isEmpty else { return "\(problems)\n  \(context)" }
        onSuccess(got)
        return nil
    }

    /// Every key and value of the engine.
    static func contents(_ engine: StorageEngine) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (k, v) in try engine.scan().collect() { out[String(decoding: k, as: UTF8.self)] = v }
        return out
    }

    /// Problems of a freshly opened engine's directory: files no state names (orphans), and
    /// checksum failures found by the verifier.
    static func directoryProblems(_ engine: StorageEngine, fileSystem: any FileSystem) -> [String] {
        var problems: [String] = []
        var live = engine.core.liveFileNames()
        live.insert(FileNames.manifest(engine.core.manifest.number))
        let present = Set((try? fileSystem.listDirectory(engine.directory)) ?? []).subtracting([FileNames.lock])
        let orphans = present.subtracting(live)
        if !orphans.isEmpty { problems.append("files no state names: \(orphans.sorted())") }
        let missing = live.subtracting(present).subtracting([FileNames.lock])
        if !missing.isEmpty { problems.append("live files missing: \(missing.sorted())") }
        do {
            let report = try DirectoryVerifier(directory: engine.directory, fileSystem: fileSystem).run()
            for f in report.corruptFiles { problems.append("verify: \(f.name): \(f.problems.map(\.reason))") }
        } catch {
            problems.append("verify failed: \(error)")
        }
        return problems
    }

    /// Runs `body(round, seed)` for `rounds` seeds derived from `base` (or just `CARTSTORE_SEED`'s
    /// round if set), printing the replay command for the first failure.
    static func rounds(name: String, base: UInt64, defaultRounds: Int, environmentKey: String,
                       _ body: (Int, UInt64) throws -> String?) rethrows {
        let env = ProcessInfo.processInfo.environment
        let count = Int(env[environmentKey] ?? "") ?? defaultRounds
        var seeds: [UInt64] = []
        var r = SeededRandom(seed: base)
        for _ in 0..<count { seeds.append(r.next() % 1_000_000_000) }
        if let fixed = env["CARTSTORE_SEED"].flatMap(UInt64.init) { seeds = [fixed] }
        print("\(name): \(seeds.count) rounds from base seed \(base) (more: \(environmentKey)=N; one: CARTSTORE_SEED=<seed> swift test --filter \(name))")
        for (i, seed) in seeds.enumerated() {
            if let failure = try body(i, seed) {
                Issue.record("""
                    \(name) round \(i) failed: \(failure)
                    reproduce with: CARTSTORE_SEED=\(seed) swift test --filter \(name)
                    """)
                return
            }
        }
    }
}
