/// What the manifest records about one live segment. Keys are encoded internal keys.
struct SegmentMeta: Sendable, Equatable {
    var level: Int
    var fileNumber: UInt64
    var fileSize: UInt64
    var entryCount: UInt64
    var sequenceSmallest: UInt64
    var sequenceLargest: UInt64
    var smallestKey: [UInt8]
    var largestKey: [UInt8]

    var smallestUserKey: ArraySlice<UInt8> { InternalKey.userKey(smallestKey[...]) }
    var largestUserKey: ArraySlice<UInt8> { InternalKey.userKey(largestKey[...]) }

    /// True if `userKey` lies within this segment's key range.
    func contains(_ userKey: ArraySlice<UInt8>) -> Bool {
        compareBytes(userKey, smallestUserKey) >= 0 && compareBytes(userKey, largestUserKey) <= 0
    }

    var info: SegmentInfo {
        SegmentInfo(fileNumber: fileNumber, level: level, fileSize: fileSize, entryCount: entryCount,
                    smallestKey: Array(smallestUserKey), largestKey: Array(largestUserKey),
                    sequenceSmallest: sequenceSmallest, sequenceLargest: sequenceLargest)
    }
}

/// A live segment as the layers above see it: its user-key range and size. The anti-entropy
/// layer uses these ranges to rehash only what a flush or compaction changed.
public struct SegmentInfo: Sendable, Equatable, CustomStringConvertible {
    public let fileNumber: UInt64
    public let level: Int
    public let fileSize: UInt64
    public let entryCount: UInt64
    /// Smallest and largest user keys in the segment (inclusive).
    public let smallestKey: [UInt8]
    public let largestKey: [UInt8]
    public let sequenceSmallest: UInt64
    public let sequenceLargest: UInt64

    public var description: String {
        "\(FileNames.segment(fileNumber)) L\(level) \(entryCount) entries \(fileSize) bytes"
    }
}

/// Told to a listener when segments are installed or removed.
public struct SegmentChange: Sendable {
    public enum Reason: String, Sendable { case flush, compaction, recovery }
    public let reason: Reason
    public let added: [SegmentInfo]
    public let removed: [SegmentInfo]
}
