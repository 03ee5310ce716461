/// Why a write to an opaque key (`SiblingSet.write`) was refused. A refused write changes
/// nothing. `contextNotCovered` is a conflict (409: the client re-reads, or the coordinator
/// merges more replicas first); `valueTooLarge` is the client's (413); `missingOwnWrites`,
/// `tooManyReplicas` and `counterExhausted` are the coordinator's to handle (merge its local
/// record, retire old epochs, or start a new epoch).
///
/// Thread safety: a `Sendable` value type.
public enum SiblingWriteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The client's context names events this replica has not seen.
    case contextNotCovered
    /// The state has not seen writes this replica issued for the key (up to `issued`; it has
    /// seen up to `seen`): merge the durable local record first, or counters would be reused.
    case missingOwnWrites(replica: ReplicaID, seen: UInt64, issued: UInt64)
    /// This replica's event counter for the key reached `counterMax`.
    case counterExhausted(ReplicaID)
    /// The write would add a clock entry past `clockEntriesMax`.
    case tooManyReplicas(max: Int)
    /// The value alone is larger than the write budget `siblingBytesPerWriteMax`.
    case valueTooLarge(bytes: Int, bytesMax: Int)

    /// Human-readable reason.
    public var description: String {
        switch self {
        case .contextNotCovered: return "the causal context names writes this replica has not seen"
        case let .missingOwnWrites(replica, seen, issued):
            return "the state has seen writes of \(replica) up to \(seen), but it issued up to \(issued): merge its local record first"
        case let .counterExhausted(replica): return "replica \(replica) exhausted its event counter for this key"
        case let .tooManyReplicas(max): return "the key's clock would name more than \(max) replicas"
        case let .valueTooLarge(bytes, bytesMax): return "a value of \(bytes) bytes is larger than the \(bytesMax)-byte write budget"
        }
    }
}
