/// An operation applied at two coordinators (a client's retry): the quantity change that counts
/// (`replica`'s series begun at `start`, units `interval`) and one that was cancelled as its
/// duplicate (`twinReplica`'s series begun at `twinStart`, units `twinInterval`, same sign).
///
/// A removal whose token saw only the twin resets the twin's units, which were not counting;
/// the link makes it remove the operation's units all the same (`CartState.settle` cancels the
/// counting change once the twin's are reset). The link is kept while the counting change has
/// units left, and it lives in the item, not in the operation log, so that forgetting the
/// operation id at compaction changes nothing.
///
/// Thread safety: a `Sendable` value type.
struct TwinLink: Hashable, Sendable, Comparable {
    var replica: ReplicaID
    var start: UInt64
    var interval: ActorCounter.Cancellation
    var twinReplica: ReplicaID
    var twinStart: UInt64
    var twinInterval: ActorCounter.Cancellation

    static func < (lhs: TwinLink, rhs: TwinLink) -> Bool {
        (lhs.replica, lhs.start, lhs.interval, lhs.twinReplica, lhs.twinStart, lhs.twinInterval)
            < (rhs.replica, rhs.start, rhs.interval, rhs.twinReplica, rhs.twinStart, rhs.twinInterval)
    }
}
