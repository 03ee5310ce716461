import CartStorage
import CartVersioning

/// Why the hint store could not read or keep a hint.
public enum HintStoreError: Error, Sendable, CustomStringConvertible {
    /// The engine failed; the cause is kept.
    case storage(StorageError)
    /// A stored hint key or value that is not one (corruption).
    case malformed(storedKey: [UInt8])
    /// A hint's record does not decode.
    case undecodable(storedKey: [UInt8], RecordCodecError)
    /// A record too large to store as a hint.
    case unencodable(RecordCodecError)
    /// A cart hinted where an opaque value is held, or the reverse.
    case kindMismatch(target: NodeID)

    public var description: String {
        switch self {
        case let .storage(error): return "hints: storage: \(error)"
        case let .malformed(key): return "hints: malformed entry at stored key \(key.prefix(24).map { String($0, radix: 16) })"
        case let .undecodable(key, error): return "hints: entry \(key.prefix(24).map { String($0, radix: 16) }) unreadable: \(error)"
        case let .unencodable(error): return "hints: record cannot be stored: \(error)"
        case let .kindMismatch(target): return "hints for \(target): a cart and an opaque value cannot merge"
        }
    }
}
