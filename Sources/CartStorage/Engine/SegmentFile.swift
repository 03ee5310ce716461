import Synchronization

/// One live segment file and access to its reader through the engine's `TableCache`, which
/// bounds how many readers (descriptors, index blocks, bloom filters) are open.
///
/// Invariant: an engine holds exactly one `SegmentFile` per file number, shared by every version,
/// scan, level iterator and compaction that can reach the file, whatever level it moves to (a
/// trivial move installs the same object one level down). Its lifetime is therefore the file's
/// lifetime (LevelDB's `FileMetaData`): a compaction whose manifest edit replaced the file marks
/// it obsolete, and the file is deleted only when the last holder lets go, so a scan that started
/// before keeps reading it.
///
/// A segment whose footer or index is corrupt keeps that error: reads that need it report it,
/// every other key is served.
final class SegmentFile: Sendable {
    let number: UInt64
    let size: UInt64
    let entryCount: UInt64
    let sequenceSmallest: UInt64
    let sequenceLargest: UInt64
    /// Smallest and largest encoded internal keys.
    let smallestKey: [UInt8]
    let largestKey: [UInt8]
    private let tables: TableCache
    /// A corruption found when opening: permanent for this file. `failed` lets the read path
    /// skip the mutex while there is none.
    private let failure = Mutex<StorageError?>(nil)
    private let failed = Atomic(false)
    private let obsolete = Atomic(false)

    init(meta: SegmentMeta, tables: TableCache) {
        number = meta.fileNumber
        size = meta.fileSize
        entryCount = meta.entryCount
        sequenceSmallest = meta.sequenceSmallest
        sequenceLargest = meta.sequenceLargest
        smallestKey = meta.smallestKey
        largestKey = meta.largestKey
        self.tables = tables
    }

    var smallestUserKey: ArraySlice<UInt8> { InternalKey.userKey(smallestKey[...]) }
    var largestUserKey: ArraySlice<UInt8> { InternalKey.userKey(largestKey[...]) }

    /// True if `userKey` lies within this segment's key range.
    func contains(_ userKey: ArraySlice<UInt8>) -> Bool {
        compareBytes(userKey, smallestUserKey) >= 0 && compareBytes(userKey, largestUserKey) <= 0
    }

    /// The manifest's record of this file at `level`.
    func meta(level: Int) -> SegmentMeta {
        SegmentMeta(level: level, fileNumber: number, fileSize: size, entryCount: entryCount,
                    sequenceSmallest: sequenceSmallest, sequenceLargest: sequenceLargest,
                    smallestKey: smallestKey, largestKey: largestKey)
    }

    func info(level: Int) -> SegmentInfo { meta(level: level).info }

    /// The reader, from the table cache (opened and verified on a miss).
    func reader() throws(StorageError) -> SegmentReader {
        if failed.load(ordering: .acquiring), let e = failure.withLock({ $0 }) { throw e }
        do {
            return try tables.reader(number)
        } catch {
            if error.isCorruption {
                failure.withLock { $0 = error }
                failed.store(true, ordering: .releasing)
            }
            throw error
        }
    }

    /// Opens the reader now, so that a corrupt footer or index is found (and logged by the
    /// caller) at open or install time rather than by the first read.
    func verifyOpens() -> StorageError? {
        do { _ = try reader(); return nil } catch { return error }
    }

    func get(_ userKey: ArraySlice<UInt8>, snapshot: UInt64) throws(StorageError) -> Memtable.Lookup {
        guard contains(userKey) else { return .notFound }
        return try reader().get(userKey, snapshot: snapshot)
    }

    /// Called once the manifest edit that replaced this file is durable: the file is deleted
    /// (and its reader and cached blocks dropped) when the last holder lets go.
    func markObsolete() { obsolete.store(true, ordering: .releasing) }

    deinit {
        guard obsolete.load(ordering: .acquiring) else { return }
        tables.evict(number)
        tables.blocks?.evict(fileNumber: number)
        tables.directory.scheduleDeletion(FileNames.segment(number))
    }
}
