/// One replica's contribution to an item's quantity, tagged (in a `DotMap`) by the dot of the
/// operation that wrote it.
///
/// An item's quantity is the sum of its live contributions. A removal drops exactly the
/// contributions it observed, so an increment concurrent with a removal survives with its own
/// delta only. See `CartState` for the per-replica folding that keeps this bounded.
///
/// Thread safety: a `Sendable` value type.
struct QuantityEntry: Hashable, Sendable, Comparable {
    /// Signed change of the quantity (zig-zag varint in records).
    var delta: Int64
    /// When this incarnation of the item was first added, in ms since the Unix epoch.
    var addedAtMs: UInt64
    /// When this contribution was written, in ms since the Unix epoch.
    var timestampMs: UInt64

    static func < (lhs: QuantityEntry, rhs: QuantityEntry) -> Bool {
        (lhs.delta, lhs.addedAtMs, lhs.timestampMs) < (rhs.delta, rhs.addedAtMs, rhs.timestampMs)
    }
}
