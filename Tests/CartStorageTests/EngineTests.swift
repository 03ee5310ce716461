import Testing
import Foundation
import CartTestSupport
@testable import CartStorage

@Suite("Storage engine")
struct EngineTests {
    static func smallOptions(memtable: Int = 16 * 1024) -> StorageOptions {
        var o = StorageOptions()
        o.memtableBytes = memtable
        o.blockBytes = 512
        o.blockCacheBytes = 256 * 1024
        o.logger.logLevel = .warning
        return o
    }

    @Test func putGetDeleteAcrossFlushAndReopen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        try e.put("a".bytes, "1".bytes)
        try e.put("b".bytes, "2".bytes)
        try e.delete("a".bytes)
        #expect(try e.get("a".bytes) == nil)
        #expect(try e.get("b".bytes) == "2".bytes)
        try e.flush()
        #expect(e.liveSegments().count == 1)
        try e.put("c".bytes, "3".bytes)
        #expect(try e.get("b".bytes) == "2".bytes)
        try e.close()
        e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        #expect(try e.get("a".bytes) == nil)
        #expect(try e.get("b".bytes) == "2".bytes)
        #expect(try e.get("c".bytes) == "3".bytes)
        let all = try e.scan().collect()
        #expect(all.map { String(decoding: $0.key, as: UTF8.self) } == ["b", "c"])
        try e.close()
        #expect(throws: StorageError.closed) { try e.get("b".bytes) }
    }

    @Test func scanIsASnapshotAndHonoursBounds() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        defer { try? e.close() }
        for i in 0..<200 { try e.put("k\(format6(i))".bytes, "v\(i)".bytes) }
        try e.flush()
        let it = try e.scan(from: "k000050".bytes, to: "k000060".bytes)
        try e.put("k000055".bytes, "changed".bytes)
        try e.delete("k000056".bytes)
        let got = try it.collect()
        #expect(got.count == 10)
        #expect(got.first?.key == "k000050".bytes)
        #expect(got.first(where: { $0.key == "k000055".bytes })?.value == "v55".bytes)
        let after = try e.scan(from: "k000050".bytes, to: "k000060".bytes).collect()
        #expect(after.count == 9)
        #expect(after.first(where: { $0.key == "k000055".bytes })?.value == "changed".bytes)
    }

    @Test func secondOpenInTheSameProcessIsRefused() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        do {
            _ = try StorageEngine.open(dir.path, options: Self.smallOptions())
            Issue.record("second open succeeded")
        } catch {
            #expect(error == .locked(directory: dir.path, holderPID: getpid()))
            #expect(error.description.contains(dir.path))
        }
        try e.close()
        let again = try StorageEngine.open(dir.path, options: Self.smallOptions())
        try again.close()
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        defer { try? e.close() }
        var b = WriteBatch()
        b.put("ok".bytes, "1".bytes)
        b.put([UInt8](repeating: 1, count: WriteBatch.keyBytesMax + 1), "x".bytes)
        #expect(throws: StorageError.self) { try e.write(b) }
        #expect(try e.get("ok".bytes) == nil)
        var bad = StorageOptions()
        bad.memtableBytes = 10
        #expect(throws: StorageError.self) { try StorageEngine.open(dir.path + "-x", options: bad) }
    }

    /// Random operations checked against a dictionary, with flushes and reopens in between.
    @Test func randomOperationsMatchAModel() throws {
        let seed = SeededRandom.seed(default: 20261125)
        print("randomOperationsMatchAModel seed=\(seed) (replay: CARTSTORE_SEED=\(seed) swift test --filter randomOperationsMatchAModel)")
        var r = SeededRandom(seed: seed)
        let dir = TestDirectory()
        defer { dir.remove() }
        var e = try StorageEngine.open(dir.path, options: Self.smallOptions(memtable: 8 * 1024))
        var model: [String: [UInt8]] = [:]
        for step in 0..<4000 {
            let key = "key-\(r.next() % 300)"
            switch r.next() % 100 {
            case 0..<55:
                let v = (0..<Int(r.next() % 200)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
                try e.put(key.bytes, v)
                model[key] = v
            case 55..<70:
                try e.delete(key.bytes)
                model[key] = nil
            case 70..<75:
                var b = WriteBatch()
                for j in 0..<5 {
                    let k = "key-\(r.next() % 300)"
                    if j % 2 == 0 { b.put(k.bytes, "b\(step)-\(j)".bytes); model[k] = "b\(step)-\(j)".bytes }
                    else { b.delete(k.bytes); model[k] = nil }
                }
                try e.write(b)
            case 75..<95:
                #expect(try e.get(key.bytes) == model[key], "seed=\(seed) step=\(step) key=\(key)")
            case 95..<98:
                let lo = "key-\(r.next() % 300)"
                let got = try e.scan(from: lo.bytes).collect(limit: 20)
                let want = model.keys.filter { $0 >= lo }.sorted().prefix(20)
                #expect(got.map { String(decoding: $0.key, as: UTF8.self) } == Array(want), "seed=\(seed) step=\(step)")
            case 98:
                try e.flush()
            default:
                try e.close()
                e = try StorageEngine.open(dir.path, options: Self.smallOptions(memtable: 8 * 1024))
            }
        }
        let all = try e.scan().collect()
        #expect(all.count == model.count, "seed=\(seed)")
        for (k, v) in all { #expect(model[String(decoding: k, as: UTF8.self)] == v, "seed=\(seed)") }
        try e.close()
    }

    @Test func listenerHearsAboutFlushedSegments() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let e = try StorageEngine.open(dir.path, options: Self.smallOptions())
        let seen = LockedBox<[SegmentChange]>([])
        e.addSegmentListener { change in seen.mutate { $0.append(change) } }
        try e.put("m".bytes, "1".bytes)
        try e.put("z".bytes, "1".bytes)
        try e.flush()
        let changes = seen.value
        #expect(changes.count == 1)
        #expect(changes.first?.added.first?.smallestKey == "m".bytes)
        #expect(changes.first?.added.first?.largestKey == "z".bytes)
        #expect(changes.first?.added.first?.entryCount == 2)
        #expect(e.liveSegments() == changes.first?.added)
        try e.close()
    }

    /// With more segments than `maxOpenFiles`, reads still see everything and the engine holds
    /// at most `maxOpenFiles` segments (descriptor + index + filter) open.
    @Test func openSegmentsAreBoundedByMaxOpenFiles() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = Self.smallOptions()
        o.maxOpenFiles = 3
        o.compactionEnabled = false
        let e = try StorageEngine.open(dir.path, options: o)
        for round in 0..<10 {
            for i in 0..<50 { try e.put("r\(round)-\(i)".bytes, "v\(round)-\(i)".bytes) }
            try e.flush()
        }
        #expect(e.liveSegments().count == 10)
        for round in 0..<10 {
            for i in stride(from: 0, to: 50, by: 7) { #expect(try e.get("r\(round)-\(i)".bytes) == "v\(round)-\(i)".bytes) }
        }
        #expect(try e.scan().collect().count == 500)
        #expect(e.stats().openFiles <= 3)
        try e.close()
    }

    /// A full compaction leaves one version per live key in a single level, no tombstones,
    /// and every read unchanged.
    @Test func compactAllLeavesOneLevelOfLiveData() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = Self.smallOptions(memtable: 8 * 1024)
        o.levelBaseBytes = 64 * 1024
        o.targetSegmentBytes = 16 * 1024
        o.levelSizeMultiplier = 2
        let e = try StorageEngine.open(dir.path, options: o)
        for round in 0..<6 {
            for i in 0..<300 { try e.put("k\(format6(i))".bytes, "v\(round)-\(i)-\(String(repeating: "x", count: 40))".bytes) }
            for i in stride(from: round, to: 300, by: 7) { try e.delete("k\(format6(i))".bytes) }
        }
        let before = try e.scan().collect()
        try e.compactAll()
        let segments = e.liveSegments()
        #expect(Set(segments.map(\.level)).count == 1, "levels after compactAll: \(segments.map(\.level))")
        #expect(segments.reduce(0) { $0 + $1.entryCount } == UInt64(before.count))
        let after = try e.scan().collect()
        #expect(after.map(\.key) == before.map(\.key))
        #expect(after.map(\.value) == before.map(\.value))
        try e.close()
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private var v: T
    private let l = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { l.lock(); defer { l.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { l.lock(); f(&v); l.unlock() }
}
