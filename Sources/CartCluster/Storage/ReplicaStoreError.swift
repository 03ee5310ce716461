import CartStorage
import CartVersioning

/// Why a replica could not read or store a key. Each case names the user key (as text, lossy
/// for non-UTF-8 bytes) so that an operator can find it.
public enum ReplicaStoreError: Error, Sendable, CustomStringConvertible {
    /// The engine failed (I/O error, a closed or failed engine); the cause is kept.
    case storage(key: String, StorageError)
    /// The stored bytes are not a record this build reads (corruption, or a newer format).
    case undecodable(key: String, RecordCodecError)
    /// A record that cannot be encoded (over the record limit): refused, nothing stored.
    case unencodable(key: String, RecordCodecError)
    /// The incoming record's kind differs from the stored one (a cart against opaque siblings):
    /// a misconfigured key policy or corruption; nothing stored.
    case kindMismatch(key: String)

    public var description: String {
        switch self {
        case let .storage(key, error): return "key \"\(key)\": storage: \(error)"
        case let .undecodable(key, error): return "key \"\(key)\": stored record unreadable: \(error)"
        case let .unencodable(key, error): return "key \"\(key)\": record cannot be stored: \(error)"
        case let .kindMismatch(key): return "key \"\(key)\": a cart and an opaque value cannot merge"
        }
    }
}
