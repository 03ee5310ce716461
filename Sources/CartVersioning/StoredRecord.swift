/// What one key's stored value is: opaque versions, or a cart.
///
/// Thread safety: a `Sendable` value type.
public enum StoredRecord: Hashable, Sendable {
    /// Opaque values with their DVVSet clock (`siblings` and `lastWriteWins` keys).
    case siblings(SiblingSet)
    /// A cart CRDT with its causal context (`cart` keys).
    case cart(CartState)

    /// Joins two records of the same kind; nil if the kinds differ (the caller reports the
    /// conflict: a key's policy decides its kind, so this means misconfiguration or corruption).
    public func merging(_ other: StoredRecord, limits: VersioningLimits = .default) -> StoredRecord? {
        switch (self, other) {
        case let (.siblings(lhs), .siblings(rhs)):
            return .siblings(lhs.merging(rhs, limits: limits))
        case let (.cart(lhs), .cart(rhs)):
            return .cart(lhs.merging(rhs))
        default:
            return nil
        }
    }
}
