/// Counters a user can read through `StorageEngine.stats()`.
public struct StorageStatistics: Sendable, CustomStringConvertible {
    public var flushCount: UInt64 = 0
    public var bytesFlushed: UInt64 = 0
    public var compactionCount: UInt64 = 0
    /// Steps of `compactAll` requests (included in `compactionCount`).
    public var manualCompactionSteps: UInt64 = 0
    public var bytesCompactedWritten: UInt64 = 0
    public var bytesCompactedRead: UInt64 = 0
    /// Bytes of user data accepted by `write` (keys + values).
    public var bytesWrittenByUser: UInt64 = 0
    public var walSyncs: UInt64 = 0
    public var writeGroups: UInt64 = 0
    public var writes: UInt64 = 0
    public var stallCount: UInt64 = 0
    public var stallNanoseconds: UInt64 = 0
    public var segmentsPerLevel: [Int] = []
    public var bytesPerLevel: [UInt64] = []
    public var cacheHits: UInt64 = 0
    public var cacheMisses: UInt64 = 0
    public var cacheBytes: Int = 0
    public var memtableBytes: Int = 0
    /// Segments currently held open, each with its index and filter (bounded by `maxOpenFiles`).
    public var openFiles: Int = 0
    public var lastSequence: UInt64 = 0

    /// (flushed + compacted bytes) / user bytes.
    public var writeAmplification: Double {
        bytesWrittenByUser == 0 ? 0 : Double(bytesFlushed + bytesCompactedWritten) / Double(bytesWrittenByUser)
    }

    public var cacheHitRate: Double {
        let total = cacheHits + cacheMisses
        return total == 0 ? 0 : Double(cacheHits) / Double(total)
    }

    public var description: String {
        var lines: [String] = []
        for (l, n) in segmentsPerLevel.enumerated() where n > 0 {
            lines.append("L\(l): \(n) segments, \(bytesPerLevel[l]) bytes")
        }
        lines.append("flushes \(flushCount) (\(bytesFlushed) bytes), compactions \(compactionCount) (read \(bytesCompactedRead), wrote \(bytesCompactedWritten) bytes)")
        lines.append("write amplification \(String(format2(writeAmplification))), writes \(writes) in \(writeGroups) groups, \(walSyncs) WAL syncs")
        lines.append("stalls \(stallCount) (\(stallNanoseconds / 1_000_000) ms), cache hit rate \(format2(cacheHitRate * 100))% (\(cacheBytes) bytes)")
        return lines.joined(separator: "\n")
    }
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded()
    let whole = Int(scaled / 100)
    let frac = Int(abs(scaled).truncatingRemainder(dividingBy: 100))
    return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
}
