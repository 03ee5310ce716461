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
    /// A join never drops a write and its result always encodes (see `VersioningLimits`).
    /// `limits` must be the same on every replica (the cart's bookkeeping depends on them).
    public func merging(_ other: StoredRecord, limits: VersioningLimits = .default) -> StoredRecord? {
        switch (self, other) {
        case let (.siblings(lhs), .siblings(rhs)):
            return .siblings(lhs.merging(rhs))
        case let (.cart(lhs), .cart(rhs)):
            return .cart(lhs.merging(rhs, limits: limits))
        default:
            return nil
        }
    }
}
