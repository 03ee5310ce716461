import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// Simulated power loss (which a SIGKILL cannot produce: the page cache survives a killed
/// process). Each round draws a configuration and a workload with flushes, compactions,
/// manifest rollovers and reopens from its seed, runs it over a `MemoryFileSystem` behind a
/// `FaultInjectingFileSystem`, cuts the power at a random file operation (possibly inside a
/// flush, a compaction, a manifest write or a recovery), drops what was not synced (keeping a
/// seeded part of it, or zeros), and reopens. Every write acknowledged under `sync = always`
/// must be there, nothing half-applied (the one write in flight is all there or not at all),
/// under `sync = none` the state must be a prefix of the acknowledged writes, and no file may
/// be left that the reopened engine does not name.
@Suite("Power loss (simulated)", .serialized)
struct PowerLossTests {
    @Test func powerLossKeepsEveryAcknowledgedWrite() throws {
        var acked = 0, roundsAlways = 0, pendingApplied = 0, cutBeforeEnd = 0
        var dropped = MemoryFileSystem.PowerLossReport()
        try FaultHarness.rounds(name: "powerLossKeepsEveryAcknowledgedWrite", base: 20_261_126, defaultRounds: 200,
                                environmentKey: "CARTSTORE_POWER_ROUNDS") { _, seed in
            var r = SeededRandom(seed: seed)
            let sync: StorageOptions.SyncPolicy = r.chance(80) ? .always : .none
            let config = FaultHarness.Config.draw(&r, sync: sync)
            let workload = FaultHarness.Workload(config: config, seed: r.next())
            let memory = MemoryFileSystem()
            try memory.createDirectory("/db")
            let faults = FaultInjectingFileSystem(wrapping: memory)
            var options = config.options
            options.fileSystem = faults
            let cutAfter = 1 + r.below(config.steps * 4)
            faults.cutPower(afterOperations: cutAfter)
            let context = "config: \(config), power cut after \(cutAfter) file operations"

            var engine: StorageEngine? = try? StorageEngine.open("/db", options: options)
            var pending: [FaultHarness.Op]? = nil
            var i = 0
            steps: while let e = engine, i < config.steps {
                switch workload.step(e, i) {
                case .ok:
                    break
                case let .writeFailed(ops, error):
                    guard faults.isPowerCut else { return "write failed with the power on: \(error)\n  \(context)\n    \(workload.tail())" }
                    pending = ops
                    break steps
                case let .failed(what, error):
                    guard faults.isPowerCut else { return "\(what) failed with the power on: \(error)\n  \(context)\n    \(workload.tail())" }
                    break steps
                case let .mismatch(m):
                    return "\(m)\n  \(context)\n    \(workload.tail())"
                case .reopen:
                    try? e.close()
                    engine = nil
                    engine = try? StorageEngine.open("/db", options: options)
                    if engine == nil && !faults.isPowerCut { return "reopen failed with the power on\n  \(context)" }
                }
                i += 1
            }
            if faults.isPowerCut { cutBeforeEnd += 1 } else { faults.cutPower() }
            try? engine?.close()
            engine = nil
            let loss = memory.powerLoss(seed: r.next())
            dropped.bytesDropped += loss.bytesDropped
            dropped.bytesKept += loss.bytesKept
            dropped.zeroBytesAdded += loss.zeroBytesAdded
            dropped.directoryOperationsLost += loss.directoryOperationsLost
            dropped.directoryOperationsKept += loss.directoryOperationsKept

            if let failure = try FaultHarness.checkReopen(
                fileSystem: memory, options: options, model: workload.model, pending: pending,
                context: "after the power loss; \(context)\n  loss: \(loss)\n    \(workload.tail())",
                onSuccess: { got in if sync == .always, pending != nil, workload.model.state != got { pendingApplied += 1 } }
            ) { return failure }
            acked += workload.model.undo.count
            if sync == .always { roundsAlways += 1 }
            return nil
        }
        print("power loss: \(acked) acknowledged writes checked (\(roundsAlways) rounds with sync=always, the rest sync=none); power cut mid-workload in \(cutBeforeEnd) rounds; in-flight write found applied in \(pendingApplied); \(dropped)")
    }
}
