@testable import CartVersioning

extension CartState {
    /// Test shorthand for `apply(_:id:at:issuedCounter:nowMs:observed:limits:)`: the state is
    /// the replica's own record (so `issuedCounter` is what it has seen of itself), and the
    /// operation id defaults to one derived from the dot it will take, unique per replica and
    /// counter (two states issuing the same id would be counter reuse, a bug of the test).
    @discardableResult
    mutating func apply(_ operation: CartOperation, at replica: ReplicaID, nowMs: UInt64, observed: CausalContext? = nil,
                        id: String? = nil, limits: VersioningLimits = .default) throws(CartOperationError) -> ApplyOutcome {
        let issued = context.highestCounter(of: replica)
        let operationID = OperationID(id ?? "auto:\(replica):\(issued + 1)")
        return try apply(operation, id: operationID, at: replica, issuedCounter: issued, nowMs: nowMs, observed: observed,
                         limits: limits)
    }
}

extension SiblingSet {
    /// Test shorthand for `write`, with the state as the replica's own record.
    @discardableResult
    mutating func write(_ sibling: Sibling, context: VersionVector, at replica: ReplicaID,
                        limits: VersioningLimits = .default) throws(SiblingWriteError) -> WriteOutcome {
        try write(sibling, context: context, at: replica, issuedCounter: self.context[replica], limits: limits)
    }

    /// Test shorthand for `writeLastWriteWins`, with the state as the replica's own record.
    @discardableResult
    mutating func writeLastWriteWins(_ sibling: Sibling, at replica: ReplicaID,
                                     limits: VersioningLimits = .default) throws(SiblingWriteError) -> WriteOutcome {
        try writeLastWriteWins(sibling, at: replica, issuedCounter: context[replica], limits: limits)
    }
}
