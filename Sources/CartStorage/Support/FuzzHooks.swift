/// **Fuzzing-only.** Entry points that feed arbitrary bytes to each decoder of the engine's
/// on-disk formats, for the libFuzzer target `CartStorageFuzz` (a separate module, which cannot
/// see internal types) and the bounded decoder test of the default test run.
///
/// Not API: no stability promise; do not call it from anything but fuzzers and tests.
///
/// Oracle: a decoder never traps (libFuzzer and the sanitizers catch that), fails only with a
/// `StorageError`, and an error that names a byte offset names one inside the input. A broken
/// oracle is returned as `.violation`; the fuzz target turns it into a crash report.
///
/// Thread safety: every function works on its own temporaries; call from any thread.
public enum _StorageFuzzHooks {
    /// The decoders. **Never renumber**: the first byte of a fuzz input selects one.
    public enum Decoder: UInt8, CaseIterable, Sendable {
        /// A log file (WAL or manifest framing), read under each tail policy, and by the
        /// inspector that skips past damage.
        case logFile = 0
        /// One WAL record payload: a write batch.
        case writeBatch = 1
        /// One block's contents (data or index format): decoded, walked and searched.
        case block = 2
        /// One index entry's value: a block handle.
        case indexEntry = 3
        /// The 64-byte footer (and the file it ends).
        case footer = 4
        /// The meta block.
        case metaBlock = 5
        /// One manifest record payload: a version edit, applied to an empty state.
        case manifestEdit = 6
        /// A bloom filter, probed.
        case bloomFilter = 7
        /// A whole segment file: opened, iterated, searched and verified.
        case segmentFile = 8
        /// A whole manifest named by `CURRENT`: replayed and inspected.
        case manifestFile = 9
    }

    public enum Outcome: Sendable {
        case accepted
        case rejected(StorageError)
        /// The oracle failed: a bug.
        case violation(String)
    }

    /// Runs the decoder that the first byte selects (modulo the number of decoders) on the rest.
    public static func run(_ input: [UInt8]) -> (decoder: Decoder, outcome: Outcome) {
        guard let first = input.first else { return (.logFile, .accepted) }
        let decoder = Decoder(rawValue: first % UInt8(Decoder.allCases.count)) ?? .logFile
        return (decoder, run(decoder, Array(input.dropFirst())))
    }

    /// Runs one decoder on `bytes`.
    public static func run(_ decoder: Decoder, _ bytes: [UInt8]) -> Outcome {
        do throws(StorageError) {
            switch decoder {
            case .logFile: try logFile(bytes)
            case .writeBatch: try writeBatch(bytes)
            case .block: try block(bytes)
            case .indexEntry: try indexEntry(bytes)
            case .footer: try footer(bytes)
            case .metaBlock: _ = try SegmentProperties.decode(bytes, file: "fuzz.meta", offset: 0)
            case .manifestEdit:
                let edit = try VersionEdit.decode(bytes, file: "fuzz.manifest", offset: 0)
                var state = ManifestState()
                try state.apply(edit, file: "fuzz.manifest", offset: 0)
            case .bloomFilter:
                for key in ["a", "cart:1", "", "zzzz"] { _ = BloomFilter.mayContain(bytes, hash: Hash64.hash(Array(key.utf8)[...])) }
            case .segmentFile: try segmentFile(bytes)
            case .manifestFile: try manifestFile(bytes)
            }
        } catch {
            if let problem = offsetProblem(error, size: bytes.count) { return .violation(problem) }
            return .rejected(error)
        }
        return .accepted
    }

    /// An error naming an offset outside the input, described; nil if the offset is fine.
    static func offsetProblem(_ error: StorageError, size: Int) -> String? {
        switch error.rootCause {
        case let .corruption(_, offset, _), let .checksumMismatch(_, offset, _, _):
            return offset >= 0 && offset <= size ? nil : "error names offset \(offset) outside the \(size)-byte input: \(error)"
        default:
            return nil
        }
    }

    private static func logFile(_ bytes: [UInt8]) throws(StorageError) {
        var firstError: StorageError?
        for policy in [LogReader.TailPolicy.strict, .truncatedOnly, .anyDamage] {
            var reader = LogReader(fileName: "fuzz.log", bytes: bytes, tailPolicy: policy)
            do {
                try reader.forEach { _ in }
            } catch {
                firstError = firstError ?? error
            }
        }
        for policy in [LogInspector.TailPolicy.strict, .truncatedOnly, .anyDamage] {
            _ = LogInspector.scan(bytes: bytes, path: "fuzz.log", name: "fuzz.log", tailPolicy: policy) { _ in }
        }
        if let firstError { throw firstError }
    }

    private static func writeBatch(_ bytes: [UInt8]) throws(StorageError) {
        let mem = Memtable()
        var previous: UInt64 = 0
        try WriteBatch.decode(bytes, file: "fuzz.wal", recordOffset: 0) { (seq, e) throws(StorageError) in
            // The decoder hands out strictly increasing sequences: the memtable relies on it.
            guard seq > previous else { throw .corruption(file: "fuzz.wal", offset: 0, reason: "sequence went back") }
            previous = seq
            mem.insert(sequence: seq, kind: e.kind, key: e.key, value: e.value)
        }
        _ = mem.get(Array("a".utf8)[...], snapshot: InternalKey.maxSequence)
    }

    private static func block(_ bytes: [UInt8]) throws(StorageError) {
        let block = try Block(contents: bytes, file: "fuzz.seg", blockOffset: 0)
        let it = BlockIterator(block)
        try it.seekToFirst()
        var keys: [[UInt8]] = []
        while it.isValid {
            if keys.count < 8 { keys.append(it.key) }
            try it.next()
        }
        // The point-lookup search (`Block.find`) must agree with the iterator's seek.
        var found: [UInt8] = []
        for k in keys + [InternalKey.seekKey(userKey: [], sequence: 0), [UInt8](repeating: 0xff, count: 9)] {
            let seek = Result { () throws(StorageError) in try it.seek(k[...]) }
            let find = Result { () throws(StorageError) -> Range<Int>? in try block.find(k[...], key: &found) }
            switch (seek, find) {
            case (.success, let .success(range)):
                let same = it.isValid ? (range.map { block.contents[$0] } == it.value && found == it.key) : range == nil
                if !same { throw .corruption(file: "fuzz.seg", offset: -1, reason: "Block.find disagrees with BlockIterator.seek") }
            case (.failure, .failure):
                break
            case let (.failure(e), _), let (_, .failure(e)):
                throw .corruption(file: "fuzz.seg", offset: -1, reason: "only one of Block.find and BlockIterator.seek failed: \(e)")
            }
        }
    }

    private static func indexEntry(_ bytes: [UInt8]) throws(StorageError) {
        // As an index entry of a 4 KiB segment.
        _ = try SegmentReader.decodeHandle(bytes[...], fileSize: 4096, path: "fuzz.seg", indexOffset: 0)
    }

    private static func footer(_ bytes: [UInt8]) throws(StorageError) {
        let fs = try fileSystem(holding: bytes, at: "/fuzz/000001.seg")
        let file = try fs.openForReading("/fuzz/000001.seg")
        _ = try SegmentReader.readFooter(file)
    }

    private static func segmentFile(_ bytes: [UInt8]) throws(StorageError) {
        let fs = try fileSystem(holding: bytes, at: "/fuzz/000001.seg")
        let reader = try SegmentReader.open(fileSystem: fs, path: "/fuzz/000001.seg", fileNumber: 1,
                                            cache: BlockCache(capacityBytes: 1 << 20))
        let it = reader.makeIterator()
        try it.seekToFirst()
        var keys: [[UInt8]] = []
        var steps = 0
        while it.isValid && steps < 1_000_000 {
            if keys.count < 16 { keys.append(it.key) }
            try it.next()
            steps += 1
        }
        for k in keys {
            _ = try reader.get(InternalKey.userKey(k[...]), snapshot: InternalKey.maxSequence)
            try it.seek(k[...])
        }
        _ = try reader.dataBlockHandles()
        _ = try SegmentInspector(path: "/fuzz/000001.seg", fileSystem: fs).verify()
    }

    private static func manifestFile(_ bytes: [UInt8]) throws(StorageError) {
        let fs = try fileSystem(holding: bytes, at: "/fuzz/MANIFEST-000001")
        let current = try fs.createFile("/fuzz/CURRENT")
        try current.append(Array("MANIFEST-000001\n".utf8))
        current.close()
        _ = try? ManifestInspector.inspect(directory: "/fuzz", fileSystem: fs)
        _ = try Manifest.recover(fileSystem: fs, directory: "/fuzz")
    }

    /// A memory file system whose `/fuzz` directory holds `bytes` at `path`.
    private static func fileSystem(holding bytes: [UInt8], at path: String) throws(StorageError) -> MemoryFileSystem {
        let fs = MemoryFileSystem()
        try fs.createDirectory("/fuzz")
        let f = try fs.createFile(path)
        try f.append(bytes)
        f.close()
        return fs
    }
}
