/// What an entry records for its key. The raw values are written to WAL records and segment
/// internal keys: **never renumber**; retired values stay listed here.
///
/// - 0: deletion (a tombstone)
/// - 1: value (a put)
public enum ValueKind: UInt8, Sendable {
    case deletion = 0
    case value = 1
}
