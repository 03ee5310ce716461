/// The state a manifest describes: live WALs, live segments per level, the file-number counter
/// and the last durable sequence number. Built by applying edits in order.
struct ManifestState: Sendable, Equatable {
    static let formatVersion: UInt32 = 1
    /// Largest file number accepted from a manifest.
    static let fileNumberMax: UInt64 = 1 << 48

    var nextFileNumber: UInt64 = 1
    var lastSequence: UInt64 = 0
    var wals: [UInt64] = []
    var levels: [[SegmentMeta]] = Array(repeating: [], count: Levels.count)

    /// Applies `edit`, refusing edits that contradict the state (a corrupt or misordered log).
    mutating func apply(_ edit: VersionEdit, file: String, offset: Int) throws(StorageError) {
        if let v = edit.formatVersion, v == 0 || v > Self.formatVersion {
            throw .unsupportedFormat(file: file, version: v, supported: Self.formatVersion)
        }
        // File numbers and sequences are far below these limits in any real directory; larger
        // values can only come from damage, and would overflow the counters below.
        let numbers = edit.addedWALs + edit.deletedWALs + edit.addedSegments.map(\.fileNumber) + [edit.nextFileNumber ?? 0]
        if let n = numbers.first(where: { $0 > Self.fileNumberMax }) {
            throw .corruption(file: file, offset: offset, reason: "file number \(n) is out of range")
        }
        if let s = edit.lastSequence, s > InternalKey.maxSequence {
            throw .corruption(file: file, offset: offset, reason: "last sequence \(s) exceeds 56 bits")
        }
        if let n = edit.nextFileNumber { nextFileNumber = max(nextFileNumber, n) }
        if let s = edit.lastSequence { lastSequence = max(lastSequence, s) }
        for n in edit.deletedWALs {
            guard let i = wals.firstIndex(of: n) else {
                throw .corruption(file: file, offset: offset, reason: "manifest deletes WAL \(n), which is not live")
            }
            wals.remove(at: i)
        }
        for n in edit.addedWALs where !wals.contains(n) { wals.append(n) }
        wals.sort()
        for d in edit.deletedSegments {
            guard let i = levels[d.level].firstIndex(where: { $0.fileNumber == d.number }) else {
                throw .corruption(file: file, offset: offset, reason: "manifest deletes segment \(d.number) from L\(d.level), where it is not live")
            }
            levels[d.level].remove(at: i)
        }
        for s in edit.addedSegments {
            levels[s.level].append(s)
            nextFileNumber = max(nextFileNumber, s.fileNumber + 1)
        }
        for n in edit.addedWALs { nextFileNumber = max(nextFileNumber, n + 1) }
        sortLevels()
    }

    /// L0 newest first (by file number, descending); deeper levels by smallest key.
    mutating func sortLevels() {
        levels[0].sort { $0.fileNumber > $1.fileNumber }
        for l in 1..<levels.count {
            levels[l].sort { InternalKey.compare($0.smallestKey[...], $1.smallestKey[...]) < 0 }
        }
    }

    /// One edit that recreates this whole state (the first record of a new manifest).
    var snapshotEdit: VersionEdit {
        var e = VersionEdit()
        e.formatVersion = Self.formatVersion
        e.nextFileNumber = nextFileNumber
        e.lastSequence = lastSequence
        e.addedWALs = wals
        e.addedSegments = levels.flatMap { $0 }
        return e
    }

    var liveSegmentNumbers: Set<UInt64> { Set(levels.flatMap { $0.map(\.fileNumber) }) }
}
