import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// Injected I/O errors on every path: writes, syncs, creates, renames, removes, directory syncs,
/// reads and opens of WALs, segments, manifests and `CURRENT`; failing with EIO or ENOSPC, having
/// done nothing, everything, or (writes) half of it before failing. Each round recovers a first
/// healthy session's data under the fault, runs a workload with flushes, compactions, rollovers
/// and reopens, then clears the fault (and sometimes cuts the power) and reopens.
///
/// Checked: the engine goes on or refuses writes with `writesStopped` whose cause is the
/// injected error (never a different error, never a trap); once it refused a write it refuses
/// every later one; reads stay right throughout; after the fault clears the directory reopens
/// with every acknowledged write (the one failed write all there or not at all), no file is
/// left that the state does not name, and every checksum verifies.
@Suite("Injected I/O errors", .serialized)
struct ErrorInjectionTests {
    typealias Fault = FaultInjectingFileSystem.Fault

    static func drawFault(_ r: inout SeededRandom) -> Fault {
        let kinds: [(FaultInjectingFileSystem.Operation, Int, [String?], Int)] = [
            // kind, weight, path fragments, largest skip
            (.write, 24, [nil, ".wal", ".seg", "MANIFEST", "CURRENT"], 120),
            (.sync, 20, [nil, ".wal", ".seg", "MANIFEST", "CURRENT"], 80),
            (.create, 10, [nil, ".wal", ".seg", "MANIFEST", "CURRENT"], 12),
            (.rename, 8, [nil], 4),
            (.syncDirectory, 10, [nil], 20),
            (.remove, 6, [nil, ".wal", ".seg", "MANIFEST"], 12),
            (.read, 12, [nil, ".seg", ".wal", "MANIFEST"], 200),
            (.open, 10, [nil, ".seg", ".wal", "MANIFEST", "CURRENT"], 30),
        ]
        var roll = r.below(kinds.reduce(0) { $0 + $1.1 })
        var chosen = kinds[0]
        for k in kinds {
            if roll < k.1 { chosen = k; break }
            roll -= k.1
        }
        let fragment = r.pick(chosen.2)
        let skip = r.below(chosen.3 / (fragment == nil ? 1 : 2) + 1)
        let effects: [Fault.Effect] = chosen.0 == .write ? [.none, .applied, .partial] : [.none, .applied]
        return Fault(chosen.0, pathContains: fragment, skip: skip, times: r.chance(70) ? 1 : nil,
                     errno: r.chance(50) ? EIO : ENOSPC, effect: r.pick(effects))
    }

    /// The injected error, or nil if `error` is something else.
    static func namesCause(_ error: StorageError, _ fault: Fault) -> Bool {
        if error == .closed { return true }
        if case let .io(_, _, code) = error.rootCause { return code == fault.errno }
        return false
    }

    @Test func injectedErrorsLoseNoAcknowledgedWrite() throws {
        var fired: [String: Int] = [:]
        var stopped = 0, refusedOpens = 0, powerCuts = 0, acked = 0, roundsFired = 0
        try FaultHarness.rounds(name: "injectedErrorsLoseNoAcknowledgedWrite", base: 80_080, defaultRounds: 200,
                                environmentKey: "CARTSTORE_FAULT_ROUNDS") { _, seed in
            var r = SeededRandom(seed: seed)
            let config = FaultHarness.Config.draw(&r, sync: .always)
            let workload = FaultHarness.Workload(config: config, seed: r.next())
            let memory = MemoryFileSystem()
            try memory.createDirectory("/db")
            let faults = FaultInjectingFileSystem(wrapping: memory)
            var options = config.options
            options.fileSystem = faults
            let fault = Self.drawFault(&r)
            let context = "config: \(config); fault: \(fault)"

            // A healthy first session, so that the faulty one starts by recovering data.
            var engine = try StorageEngine.open("/db", options: options)
            let healthySteps = r.below(config.steps / 2)
            var i = 0
            while i < healthySteps {
                switch workload.step(engine, i) {
                case .ok: break
                case .reopen:
                    try engine.close()
                    engine = try StorageEngine.open("/db", options: options)
                case let .writeFailed(_, e), let .failed(_, e): return "healthy session failed: \(e)\n  \(context)\n    \(workload.tail())"
                case let .mismatch(m): return "\(m)\n  \(context)\n    \(workload.tail())"
                }
                i += 1
            }
            try engine.close()

            // The faulty session.
            faults.inject(fault)
            var current: StorageEngine?
            do throws(StorageError) { current = try StorageEngine.open("/db", options: options) } catch {
                guard Self.namesCause(error, fault) else { return "open failed with an error other than the injected one: \(error)\n  \(context)" }
                refusedOpens += 1
            }
            var pending: [FaultHarness.Op]? = nil
            var refusal: StorageError? = nil
            steps: while let e = current, i < healthySteps + config.steps {
                defer { i += 1 }
                switch workload.step(e, i) {
                case let .ok(wrote):
                    if wrote, let refusal { return "a write was accepted after one was refused with \(refusal)\n  \(context)\n    \(workload.tail())" }
                case let .writeFailed(ops, error):
                    guard Self.namesCause(error, fault) else { return "write failed with \(error), not the injected error\n  \(context)\n    \(workload.tail())" }
                    if refusal == nil {
                        pending = ops
                        refusal = error
                    }
                case let .failed(what, error):
                    guard Self.namesCause(error, fault) else { return "\(what) failed with \(error), not the injected error\n  \(context)\n    \(workload.tail())" }
                case let .mismatch(m):
                    return "\(m) (after \(faults.injections.count) injected faults)\n  \(context)\n    \(workload.tail())"
                case .reopen:
                    // After a refused write its outcome stays unknown: stop here, so that the
                    // model's "in flight last" holds.
                    if refusal != nil { break steps }
                    do throws(StorageError) { try e.close() } catch {
                        guard Self.namesCause(error, fault) else { return "close failed with \(error)\n  \(context)" }
                    }
                    current = nil
                    do throws(StorageError) { current = try StorageEngine.open("/db", options: options) } catch {
                        guard Self.namesCause(error, fault) else { return "reopen failed with \(error), not the injected error\n  \(context)" }
                        refusedOpens += 1
                    }
                }
            }
            if refusal != nil { stopped += 1 }
            if let e = current {
                do throws(StorageError) { try e.close() } catch {
                    guard Self.namesCause(error, fault) else { return "close failed with \(error)\n  \(context)" }
                }
            }
            current = nil
            for injection in faults.injections { fired["\(injection.operation)", default: 0] += 1 }
            if !faults.injections.isEmpty { roundsFired += 1 }

            // The fault clears (sometimes the power goes too); the directory must reopen whole.
            faults.clearFaults()
            if r.chance(40) {
                memory.powerLoss(seed: r.next())
                powerCuts += 1
            }
            if let failure = try FaultHarness.checkReopen(
                fileSystem: memory, options: options, model: workload.model, pending: pending,
                context: "after the fault cleared; \(context); fired: \(faults.injections)\n    \(workload.tail())"
            ) { return failure }
            acked += workload.model.undo.count
            return nil
        }
        print("injected errors: a fault fired in \(roundsFired) rounds; faults fired \(fired.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); writes stopped in \(stopped) rounds, opens refused \(refusedOpens) times, power cut after the fault in \(powerCuts) rounds; \(acked) acknowledged writes checked")
    }
}
