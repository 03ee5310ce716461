import CartStorage
import CartVersioning

/// Why a replica could not read or store a key. Each case names the user key (as text, lossy
/// for non-UTF-8 bytes, at most 128 bytes of it) or the partition, so that an operator can find it.
public enum ReplicaStoreError: Error, Sendable, CustomStringConvertible {
    /// A user key longer than `ReplicaStore.keyBytesMax`.
    case keyTooLong(bytes: Int, max: Int)
    /// A partition the ring does not have (a peer or operator named it).
    case noSuchPartition(Int, partitionCount: Int)
    /// A scan of a partition failed in the engine.
    case scan(partition: Int, StorageError)
    /// A stored key inside the data namespace that is not a stored data key (corruption).
    case malformedStoredKey(partition: Int, bytes: [UInt8])
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
        case let .keyTooLong(bytes, max): return "key of \(bytes) bytes exceeds the limit of \(max)"
        case let .noSuchPartition(partition, count): return "partition \(partition) outside 0..<\(count)"
        case let .scan(partition, error): return "partition \(partition): scan: \(error)"
        case let .malformedStoredKey(partition, bytes):
            return "partition \(partition): malformed stored key \(bytes.prefix(16).map { String($0, radix: 16) })"
        case let .storage(key, error): return "key \"\(key)\": storage: \(error)"
        case let .undecodable(key, error): return "key \"\(key)\": stored record unreadable: \(error)"
        case let .unencodable(key, error): return "key \"\(key)\": record cannot be stored: \(error)"
        case let .kindMismatch(key): return "key \"\(key)\": a cart and an opaque value cannot merge"
        }
    }
}
