/// Where an engine is in its life. Every transition goes through `EngineCore.enterFailed` or
/// `EngineCore.close`, and wakes every waiter:
///
/// ```
/// open ──(an outcome became unknown, or background work failed)──▶ failed
/// open | failed ──(close() begins)──▶ closing ──(files closed, lock released)──▶ closed
/// ```
///
/// - `open`: reads and writes are served.
/// - `failed`: writes, flushes and compactions are refused with the stored `writesStopped`
///   error; reads are served; every file is kept for the next open to decide.
/// - `closing`: new calls get `.closed`; a write or background step already running finishes
///   (a compaction gives up at its next check). `failure` remembers a failed state, so that
///   nothing more is written to the manifest.
/// - `closed`: every call gets `.closed`.
enum Lifecycle {
    case open
    case failed(StorageError)
    case closing(failure: StorageError?)
    case closed

    /// The error a write gets in this state, or nil if writes are accepted.
    var writeRefusal: StorageError? {
        switch self {
        case .open: return nil
        case let .failed(e): return e
        case .closing, .closed: return .closed
        }
    }

    /// True while reads are served.
    var servesReads: Bool {
        switch self {
        case .open, .failed: return true
        case .closing, .closed: return false
        }
    }
}
