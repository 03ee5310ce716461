@testable import CartStorage
import Logging
import Foundation
import Testing

/// `StorageEngine.syncWAL()`: group commit above the engine. Under `sync = .none`, what was
/// written before a `syncWAL` that returned survives a power loss; a failed `syncWAL` stops
/// writes like a failed append and keeps the data.
@Suite struct SyncWALTests {
    private func options(_ fileSystem: any FileSystem) -> StorageOptions {
        var options = StorageOptions()
        options.fileSystem = fileSystem
        options.sync = .none
        options.backgroundMode = .manual
        options.memtableBytes = 4 << 10
        options.logger = .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        return options
    }

    @Test func writesBeforeASyncSurvivePowerLossAcrossMemtableSwitches() throws {
        for seed in UInt64(1)...20 {
            let memory = MemoryFileSystem()
            try memory.createDirectory("/db")
            let engine = try StorageEngine.open("/db", options: options(memory))
            var synced: [String] = []
            for round in 0..<30 {
                // Enough data per round to switch memtables now and then (4 KiB memtables).
                for n in 0..<5 { try engine.put(Array("k\(round)-\(n)".utf8), Array(repeating: UInt8(n), count: 200)) }
                if round % 3 == 0 { _ = try engine.runBackgroundWork(maxSteps: 1) }
                try engine.syncWAL()
                synced += (0..<5).map { "k\(round)-\($0)" }
            }
            try engine.put(Array("unsynced".utf8), [1])
            _ = memory.powerLoss(seed: seed)
            try? engine.close()
            let reopened = try StorageEngine.open("/db", options: options(memory))
            defer { try? reopened.close() }
            for key in synced { #expect(try reopened.get(Array(key.utf8)) != nil, "seed \(seed): \(key) written before syncWAL was lost") }
        }
    }

    @Test func aFailedSyncStopsWritesAndKeepsWhatWasWritten() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let faults = FaultInjectingFileSystem(wrapping: memory)
        let engine = try StorageEngine.open("/db", options: options(faults))
        try engine.put(Array("a".utf8), [1])
        try engine.syncWAL()
        try engine.put(Array("b".utf8), [2])
        #expect(engine.writeRefusal == nil)
        faults.inject(.init(.sync, pathContains: ".wal"))
        #expect(throws: StorageError.self) { try engine.syncWAL() }
        #expect(engine.writeRefusal != nil, "a failed sync stops writes")
        #expect(throws: StorageError.self) { try engine.put(Array("c".utf8), [3]) }
        #expect(try engine.get(Array("a".utf8)) == [1], "reads go on")
        try? engine.close()
        faults.clearFaults()
        let reopened = try StorageEngine.open("/db", options: options(memory))
        defer { try? reopened.close() }
        #expect(try reopened.get(Array("a".utf8)) == [1])
        #expect(try reopened.get(Array("b".utf8)) == [2], "no power loss: the unsynced write is in the file")
    }

    @Test func aSyncWithNothingUnsyncedIsFreeAndAlwaysPolicyNeedsNone() throws {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        let engine = try StorageEngine.open("/db", options: options(memory))
        defer { try? engine.close() }
        let before = engine.stats().walSyncs
        try engine.syncWAL()
        #expect(engine.stats().walSyncs == before, "nothing written: no fdatasync")
        try engine.put(Array("a".utf8), [1])
        try engine.syncWAL()
        try engine.syncWAL()
        #expect(engine.stats().walSyncs == before + 1)
    }
}
