/// Last-write-wins reads and writes over a `SiblingSet`, for keys whose owners opted in.
///
/// A LWW write uses the coordinator's own clock (plus whatever context the client sent) as its
/// context, so it supersedes every version the coordinator holds; versions written concurrently
/// elsewhere stay as siblings until a later write supersedes them, and a LWW read answers only
/// the winner: the greatest `(timestampMs, replica, counter)`. The state remains a join
/// semilattice, so replicas still converge. Cost: a concurrent write that loses the tie break is
/// dropped silently, which is what the key's owner accepted. Never use this for carts.
extension SiblingSet {
    /// Writes `sibling` so that it supersedes every version this replica holds (see `write`
    /// for the parameters and errors; `context` must still name only events seen here).
    @discardableResult
    public mutating func writeLastWriteWins(_ sibling: Sibling, context: VersionVector = VersionVector(),
                                            at replica: ReplicaID, issuedCounter: UInt64,
                                            limits: VersioningLimits = .default) throws(SiblingWriteError) -> WriteOutcome {
        guard self.context.dominates(context) else { throw .contextNotCovered }
        return try write(sibling, context: self.context, at: replica, issuedCounter: issuedCounter, limits: limits)
    }

    /// The version a LWW read answers: the greatest `(timestampMs, replica, counter)`.
    public var lastWriteWinsWinner: Version? {
        versions.max { lhs, rhs in
            (lhs.sibling.timestampMs, lhs.dot.replica, lhs.dot.counter)
                < (rhs.sibling.timestampMs, rhs.dot.replica, rhs.dot.counter)
        }
    }

    /// What a read answers under `policy`: every sibling, or only the LWW winner.
    /// A `.cart` policy does not apply to opaque keys and answers every sibling.
    public func resolvedVersions(policy: ConflictPolicy) -> [Version] {
        switch policy {
        case .lastWriteWins:
            return lastWriteWinsWinner.map { [$0] } ?? []
        case .siblings, .cart:
            return versions
        }
    }
}
