/// One atomic change to the set of live files, as recorded in the manifest.
///
/// ```
/// edit  := field*
/// field := tag:varint body          // tags below; never renumber
///   1 format_version:varint
///   2 next_file_number:varint
///   3 last_sequence:varint
///   4 add_wal:varint                 (WAL file number)
///   5 delete_wal:varint
///   6 add_segment: level:varint number:varint file_size:varint entry_count:varint
///                  sequence_smallest:varint sequence_largest:varint
///                  smallest_key:bytes largest_key:bytes
///   7 delete_segment: level:varint number:varint
/// ```
struct VersionEdit: Sendable, Equatable {
    /// Field tags. **Never renumber.**
    enum Tag: UInt64 {
        case formatVersion = 1
        case nextFileNumber = 2
        case lastSequence = 3
        case addWAL = 4
        case deleteWAL = 5
        case addSegment = 6
        case deleteSegment = 7
    }

    var formatVersion: UInt32?
    var nextFileNumber: UInt64?
    var lastSequence: UInt64?
    var addedWALs: [UInt64] = []
    var deletedWALs: [UInt64] = []
    var addedSegments: [SegmentMeta] = []
    var deletedSegments: [(level: Int, number: UInt64)] = []

    static func == (a: VersionEdit, b: VersionEdit) -> Bool {
        a.formatVersion == b.formatVersion && a.nextFileNumber == b.nextFileNumber
            && a.lastSequence == b.lastSequence && a.addedWALs == b.addedWALs && a.deletedWALs == b.deletedWALs
            && a.addedSegments == b.addedSegments
            && a.deletedSegments.map { "\($0.level)/\($0.number)" } == b.deletedSegments.map { "\($0.level)/\($0.number)" }
    }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        if let v = formatVersion { w.writeVarint(Tag.formatVersion.rawValue); w.writeVarint(UInt64(v)) }
        if let v = nextFileNumber { w.writeVarint(Tag.nextFileNumber.rawValue); w.writeVarint(v) }
        if let v = lastSequence { w.writeVarint(Tag.lastSequence.rawValue); w.writeVarint(v) }
        for n in addedWALs { w.writeVarint(Tag.addWAL.rawValue); w.writeVarint(n) }
        for n in deletedWALs { w.writeVarint(Tag.deleteWAL.rawValue); w.writeVarint(n) }
        for s in addedSegments {
            w.writeVarint(Tag.addSegment.rawValue)
            w.writeVarint(UInt64(s.level))
            w.writeVarint(s.fileNumber)
            w.writeVarint(s.fileSize)
            w.writeVarint(s.entryCount)
            w.writeVarint(s.sequenceSmallest)
            w.writeVarint(s.sequenceLargest)
            w.writeLengthPrefixed(s.smallestKey)
            w.writeLengthPrefixed(s.largestKey)
        }
        for d in deletedSegments {
            w.writeVarint(Tag.deleteSegment.rawValue)
            w.writeVarint(UInt64(d.level))
            w.writeVarint(d.number)
        }
        return w.bytes
    }

    static func decode(_ payload: [UInt8], file: String, offset: Int) throws(StorageError) -> VersionEdit {
        var r = ByteReader(payload)
        var e = VersionEdit()
        func bad(_ why: String) -> StorageError {
            .corruption(file: file, offset: offset, reason: "manifest edit: \(why) (payload offset \(r.offset))")
        }
        do {
            while !r.isAtEnd {
                let raw = try r.readVarint()
                guard let tag = Tag(rawValue: raw) else { throw bad("unknown tag \(raw)") }
                switch tag {
                case .formatVersion:
                    let v = try r.readVarint()
                    // Refused here, before any later field: a newer version may use tags this
                    // build cannot parse, and must read as "unsupported", not as damage.
                    guard v >= 1, v <= UInt64(ManifestState.formatVersion) else {
                        throw StorageError.unsupportedFormat(file: file, version: UInt32(clamping: v), supported: ManifestState.formatVersion)
                    }
                    e.formatVersion = UInt32(v)
                case .nextFileNumber: e.nextFileNumber = try r.readVarint()
                case .lastSequence: e.lastSequence = try r.readVarint()
                case .addWAL: e.addedWALs.append(try r.readVarint())
                case .deleteWAL: e.deletedWALs.append(try r.readVarint())
                case .addSegment:
                    let level = try r.readLength(limit: Levels.count - 1)
                    let number = try r.readVarint()
                    let size = try r.readVarint()
                    let count = try r.readVarint()
                    let s0 = try r.readVarint()
                    let s1 = try r.readVarint()
                    let smallest = Array(try r.readLengthPrefixed())
                    let largest = Array(try r.readLengthPrefixed())
                    guard smallest.count >= InternalKey.trailerSize, largest.count >= InternalKey.trailerSize else {
                        throw bad("segment \(number) key range shorter than a trailer")
                    }
                    e.addedSegments.append(SegmentMeta(level: level, fileNumber: number, fileSize: size, entryCount: count,
                                                       sequenceSmallest: s0, sequenceLargest: s1,
                                                       smallestKey: smallest, largestKey: largest))
                case .deleteSegment:
                    let level = try r.readLength(limit: Levels.count - 1)
                    e.deletedSegments.append((level, try r.readVarint()))
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw bad("truncated or malformed (\(error))")
        }
        return e
    }
}

/// Number of levels in the LSM tree.
enum Levels {
    static let count = 7
}
