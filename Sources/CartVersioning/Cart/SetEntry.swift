/// A "set the quantity to N" write, tagged in a `DotMap` by the dot of its operation.
///
/// An item's quantity is the winning live set's value (0 if none) plus every counted change of
/// its `ActorCounter`s. A set removes the changes and sets its client observed, so concurrent
/// sets coexist and the greatest `(timestampMs, replica, counter)` wins (two devices setting the
/// same N give N), and changes concurrent with a set count on top of it.
///
/// Thread safety: a `Sendable` value type.
struct SetEntry: Hashable, Sendable, Comparable, TimestampedPayload {
    /// The quantity set, at least 1 (a set to 0 is a removal).
    var quantity: Int64
    /// `addedAtMs` the set asserted for the item.
    var addedAtMs: UInt64
    /// Coordinator wall-clock time of the write, in ms since the Unix epoch.
    var timestampMs: UInt64

    static func < (lhs: SetEntry, rhs: SetEntry) -> Bool {
        (lhs.timestampMs, lhs.quantity, lhs.addedAtMs) < (rhs.timestampMs, rhs.quantity, rhs.addedAtMs)
    }
}
