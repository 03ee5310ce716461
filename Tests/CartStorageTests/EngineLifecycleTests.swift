import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

/// Regression tests for the engine's lifecycle findings: file lifetimes across trivial moves,
/// an engine dropped without `close()`, `close()` racing `compactAll()`,
/// `waitForBackgroundWork()` and another `close()`, `compactAll()` under continuous writes, and
/// iterators used after `close()`. Each failed (or hung) on the engine before the fix.
@Suite("Engine lifecycle")
struct EngineLifecycleTests {
    static func options(memtable: Int = 16 * 1024) -> StorageOptions {
        var o = StorageOptions()
        o.memtableBytes = memtable
        o.blockBytes = 1024
        o.levelBaseBytes = 64 * 1024
        o.targetSegmentBytes = 16 * 1024
        o.compression = .none
        o.logger.logLevel = .critical
        return o
    }

    static func value(_ tag: String, _ i: Int) -> [UInt8] { Array("\(tag)-\(i)-\(String(repeating: "v", count: 80))".utf8) }

    /// Finding 2: a trivial move installed a second handle for the same file; when a later
    /// compaction consumed it, that handle deleted the file while an older scan still needed it
    /// ("No such file or directory" part-way through the scan). A scan opened before many
    /// flushes, trivial moves and compactions must read exactly its snapshot to the end.
    ///
    /// The order is made certain: the scan holds L1 segments; writes of a disjoint key range
    /// then push L1 over its target, so the scan's segments move to L2 by trivial moves; then
    /// every key is rewritten and compacted, consuming the moved segments.
    @Test(arguments: [StorageOptions.BackgroundMode.manual, .thread])
    func scanReadsItsSnapshotAcrossTrivialMovesAndCompactions(mode: StorageOptions.BackgroundMode) throws {
        let dir = TestDirectory("trivialMoveScan\(mode)")
        defer { dir.remove() }
        var o = Self.options()
        o.maxOpenFiles = 4 // the scan's lazily opened segments are not all cached
        o.backgroundMode = mode
        let e = try StorageEngine.open(dir.path, options: o)
        defer { try? e.close() }
        let n = 500
        for i in 0..<n { try e.put("k\(format6(i))".bytes, Self.value("old", i)) }
        try e.compactAll()
        let it = try e.scan(from: "k".bytes, to: "k\(format6(n))".bytes)
        var seen: [(key: [UInt8], value: [UInt8])] = try it.collect(limit: 10)
        let compactionsBefore = e.stats().compactionCount
        for i in n..<(6 * n) { try e.put("k\(format6(i))".bytes, Self.value("more", i)) }
        try e.waitForBackgroundWork()
        let levels = e.stats().segmentsPerLevel
        #expect(levels[2] > 0 && e.stats().compactionCount > compactionsBefore, "no segment moved to L2: \(levels)")
        for round in 0..<2 {
            for i in 0..<(6 * n) { try e.put("k\(format6(i))".bytes, Self.value("new\(round)", i)) }
            try e.compactAll()
        }
        try e.waitForBackgroundWork()
        while let entry = try it.nextEntry() { seen.append(entry) }
        #expect(seen.count == n)
        for (i, entry) in seen.enumerated() {
            guard entry.key == "k\(format6(i))".bytes, entry.value == Self.value("old", i) else {
                Issue.record("entry \(i) of the scan is \(String(decoding: entry.key, as: UTF8.self)), not the snapshot's")
                return
            }
        }
    }

    /// Finding 4: an engine released without `close()` kept its background thread (which held
    /// it) and its directory lock until the process exited.
    @Test func droppedEngineClosesAndReleasesItsDirectory() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        weak var dropped: StorageEngine?
        do {
            let e = try StorageEngine.open(dir.path, options: Self.options())
            try e.put("a".bytes, "1".bytes)
            dropped = e
        }
        #expect(dropped == nil, "the engine outlived its last reference")
        let again = try StorageEngine.open(dir.path, options: Self.options())
        #expect(try again.get("a".bytes) == "1".bytes)
        try again.close()
    }

    /// Finding 6: `compactAll()` or `waitForBackgroundWork()` hung forever when `close()` ran at
    /// the same time (10 of 16 tries). Now both return: the waiter with `.closed` or success.
    @Test func closeDuringCompactAllOrWaitForBackgroundWorkReturns() throws {
        for attempt in 0..<16 {
            let dir = TestDirectory("closeRace\(attempt)")
            defer { dir.remove() }
            let e = try StorageEngine.open(dir.path, options: Self.options(memtable: 8 * 1024))
            for i in 0..<2500 { try e.put("k\(format6((i * 7919) % 2500))".bytes, Self.value("v", i)) }
            let useCompactAll = attempt % 2 == 0
            let errors = LockedBox<[String]>([])
            let start = DispatchSemaphore(value: 0)
            let waiterDone = Self.thread {
                start.wait()
                do throws(StorageError) {
                    if useCompactAll { try e.compactAll() } else { try e.waitForBackgroundWork() }
                } catch {
                    if error != .closed { errors.mutate { $0.append("\(useCompactAll ? "compactAll" : "waitForBackgroundWork"): \(error)") } }
                }
            }
            let closerDone = Self.thread {
                start.wait()
                do { try e.close() } catch { errors.mutate { $0.append("close: \(error)") } }
            }
            start.signal()
            start.signal()
            let waiterFinished = waiterDone.wait(timeout: .now() + 60) == .success
            let closerFinished = closerDone.wait(timeout: .now() + 60) == .success
            #expect(waiterFinished, "attempt \(attempt): \(useCompactAll ? "compactAll" : "waitForBackgroundWork") hung")
            #expect(closerFinished, "attempt \(attempt): close hung")
            #expect(errors.value.isEmpty, "attempt \(attempt): \(errors.value)")
            #expect(throws: StorageError.closed) { try e.waitForBackgroundWork() }
            if !waiterFinished || !closerFinished { return } // a hung thread is left behind; one is enough
        }
    }

    /// Finding 7: a second, concurrent `close()` returned at once while the first was still
    /// draining; after it returned, reads still succeeded and a reopen failed with `locked`.
    @Test func concurrentCloseReturnsOnlyWhenClosed() throws {
        for attempt in 0..<8 {
            let dir = TestDirectory("doubleClose\(attempt)")
            defer { dir.remove() }
            let e = try StorageEngine.open(dir.path, options: Self.options(memtable: 64 * 1024))
            for i in 0..<3000 { try e.put("k\(format6(i))".bytes, Self.value("v", i)) }
            let problems = LockedBox<[String]>([])
            let reopenLock = NSLock()
            let start = DispatchSemaphore(value: 0)
            let dirPath = dir.path
            let closers = (0..<2).map { c in
                Self.thread {
                    start.wait()
                    do { try e.close() } catch { problems.mutate { $0.append("close \(c): \(error)") } }
                    do throws(StorageError) {
                        _ = try e.get("k000001".bytes)
                        problems.mutate { $0.append("close \(c) returned but get still succeeds") }
                    } catch {
                        if error != .closed { problems.mutate { $0.append("get after close \(c): \(error)") } }
                    }
                    reopenLock.lock()
                    defer { reopenLock.unlock() }
                    do {
                        let again = try StorageEngine.open(dirPath, options: Self.options())
                        try again.close()
                    } catch {
                        problems.mutate { $0.append("reopen after close \(c) returned: \(error)") }
                    }
                }
            }
            start.signal()
            start.signal()
            let finished = closers.allSatisfy { $0.wait(timeout: .now() + 60) == .success }
            #expect(finished, "attempt \(attempt): close hung")
            #expect(problems.value.isEmpty, "attempt \(attempt): \(problems.value)")
            if !finished || !problems.value.isEmpty { return }
        }
    }

    /// Finding 8: `compactAll()` never finished while writes continued (it stayed on L0 as new
    /// flushes landed), and automatic compactions paused meanwhile. Now it finishes against the
    /// data present when it was called, and automatic compactions alternate with its steps.
    @Test func compactAllFinishesWhileWritesContinue() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = Self.options(memtable: 4 * 1024)
        o.level0CompactionTrigger = 2
        o.level0StopWritesTrigger = 6
        o.sync = .none // the writer outpaces the compaction steps, so flushes land all the time
        let e = try StorageEngine.open(dir.path, options: o)
        defer { try? e.close() }
        for i in 0..<3000 { try e.put("k\(format6(i))".bytes, Self.value("v", i)) }
        let stop = LockedBox(false)
        let writes = LockedBox(0)
        let writerErrors = LockedBox<[String]>([])
        let writersDone = (0..<4).map { t in
            Self.thread {
                var i = 0
                while !stop.value {
                    do { try e.put("w\(t)-\(format6(i % 4000))".bytes, Self.value("w", i)) } catch {
                        writerErrors.mutate { $0.append("\(error)") }
                        return
                    }
                    i += 1
                    writes.mutate { $0 += 1 }
                }
            }
        }
        // Let the writer get going, so that flushes land while compactAll runs.
        while writes.value < 500 && writerErrors.value.isEmpty { usleep(1000) }
        let before = e.stats()
        let writesBefore = writes.value
        let compacted = Self.thread {
            do { try e.compactAll() } catch { writerErrors.mutate { $0.append("compactAll: \(error)") } }
        }
        let finished = compacted.wait(timeout: .now() + 60) == .success
        let after = e.stats()
        stop.mutate { $0 = true }
        for w in writersDone { #expect(w.wait(timeout: .now() + 60) == .success) }
        #expect(finished, "compactAll did not finish while writes continued")
        #expect(writerErrors.value.isEmpty, "\(writerErrors.value)")
        #expect(writes.value > writesBefore, "writes did not go on during compactAll")
        let automatic = (after.compactionCount - after.manualCompactionSteps) - (before.compactionCount - before.manualCompactionSteps)
        print("compactAll under writes: \(writes.value - writesBefore) writes during it, \(after.manualCompactionSteps - before.manualCompactionSteps) manual steps, \(automatic) automatic compactions alongside; levels \(after.segmentsPerLevel)")
    }

    /// Finding 9: iterators went on reading after `close()`, and failed with ENOENT once another
    /// engine opened the directory and compacted; `waitForBackgroundWork()` after `close()`
    /// returned normally. Now every call after `close()` — on the engine and on its iterators —
    /// fails with `.closed`.
    @Test func everyCallAfterCloseFailsWithClosed() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = Self.options()
        o.maxOpenFiles = 2
        let e = try StorageEngine.open(dir.path, options: o)
        for i in 0..<2000 { try e.put("k\(format6(i))".bytes, Self.value("v", i)) }
        try e.compactAll()
        let it = try e.scan()
        _ = try it.collect(limit: 5)
        let visit = try e.scan()
        try e.close()
        #expect(throws: StorageError.closed) { try it.nextEntry() }
        #expect(throws: StorageError.closed) { try visit.forEach { _, _ in true } }
        #expect(throws: StorageError.closed) { try e.get("k000001".bytes) }
        #expect(throws: StorageError.closed) { try e.scan() }
        #expect(throws: StorageError.closed) { try e.put("x".bytes, "y".bytes) }
        #expect(throws: StorageError.closed) { try e.flush() }
        #expect(throws: StorageError.closed) { try e.compactAll() }
        #expect(throws: StorageError.closed) { try e.waitForBackgroundWork() }
        try e.close() // still idempotent

        // Another engine takes the directory over and rewrites every file: the old iterator
        // still reports `.closed`, never a missing file.
        let other = try StorageEngine.open(dir.path, options: o)
        for i in 0..<2000 { try other.put("k\(format6(i))".bytes, Self.value("w", i)) }
        try other.compactAll()
        #expect(throws: StorageError.closed) { try it.collect() }
        #expect(try other.get("k000001".bytes) == Self.value("w", 1))
        try other.close()
    }

    /// Starts `body` on a new thread; the semaphore is signalled when it returns.
    static func thread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            body()
            done.signal()
        }
        t.start()
        return done
    }
}
