/// The workloads of `cartstore-bench engine`, with db_bench's names and meanings.
enum Workload: String, CaseIterable, Sendable {
    /// `num` puts in key order.
    case fillseq
    /// `num` puts of unique keys in random order (a seeded shuffle of `0..<num`).
    case fillrandom
    /// `writes` puts of uniformly random existing keys.
    case overwrite
    /// `writes` puts of uniformly random keys in `0..<num`, each durable before it returns
    /// (the engine is reopened with `sync = always` for it). `writes` defaults to num/1000.
    case fillsync
    /// `reads` gets of uniformly random existing keys (reports how many were found).
    case readrandom
    /// `reads` gets of keys that exist in no run but sort among the existing ones.
    case readmissing
    /// A scan of the whole key range in order, up to `reads` entries.
    case readseq
    /// `reads` scans positioned at a random existing key, each reading one entry.
    case seekrandom
    /// `reads` gets of random existing keys split across `--threads` readers (as readrandom),
    /// while one more thread puts random keys in `0..<num`, each durable before it returns (the
    /// engine is reopened with `sync = always` unless it already is), until the readers finish.
    /// The result line is the readers'; it ends with the writer's put count.
    case readwhilewriting
    /// One full compaction (`StorageEngine.compactAll`), like db_bench's `compact`; reports the
    /// space on disk afterwards.
    case compact

    static let defaultList = "fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,seekrandom"

    var isWrite: Bool {
        switch self {
        case .fillseq, .fillrandom, .overwrite, .fillsync: return true
        case .readrandom, .readmissing, .readseq, .seekrandom, .readwhilewriting, .compact: return false
        }
    }

    /// db_bench's `fresh_db`: the directory is wiped first, unless `--use-existing`.
    var wantsFreshDatabase: Bool {
        switch self {
        case .fillseq, .fillrandom, .fillsync: return true
        default: return false
        }
    }

    /// Whether the result line reports how many lookups found their key.
    var reportsFound: Bool {
        switch self {
        case .readrandom, .readmissing, .seekrandom, .readwhilewriting: return true
        default: return false
        }
    }
}
