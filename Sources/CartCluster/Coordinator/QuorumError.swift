/// Why a coordinator could not answer a request from enough replicas. Carries the counts, so
/// that the client (and the operator reading the log) sees how far it got.
public enum QuorumError: Error, Hashable, Sendable, CustomStringConvertible {
    /// So many replicas failed (answered an error, or were known down) that `needed` can no
    /// longer be reached.
    case unreachable(needed: Int, answered: Int, failed: Int, replicas: Int)
    /// The request's timeout fired before `needed` replicas answered.
    case timedOut(needed: Int, answered: Int, replicas: Int)

    public var description: String {
        switch self {
        case let .unreachable(needed, answered, failed, replicas):
            return "needed \(needed) of \(replicas) replicas: \(answered) answered, \(failed) failed"
        case let .timedOut(needed, answered, replicas):
            return "timed out: needed \(needed) of \(replicas) replicas, \(answered) answered"
        }
    }
}
