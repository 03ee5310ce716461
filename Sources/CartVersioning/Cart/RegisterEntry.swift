/// One write of a last-writer-wins field (name, price, metadata), tagged in a `DotMap` by the
/// dot of the operation that wrote it.
///
/// A write supersedes every entry its replica held (they are in its context), so only writes
/// that were concurrent coexist; a read picks the greatest `(timestampMs, replica, counter)`.
/// Because entries carry dots, a removal also removes the fields it observed: a removed item's
/// old name never leaks into a concurrent re-add.
///
/// Thread safety: a `Sendable` value type.
struct RegisterEntry<Value: Hashable & Sendable & Comparable>: Hashable, Sendable, Comparable, TimestampedPayload {
    /// The written value.
    var value: Value
    /// Coordinator wall-clock time of the write, in ms since the Unix epoch.
    var timestampMs: UInt64

    static func < (lhs: RegisterEntry, rhs: RegisterEntry) -> Bool {
        (lhs.timestampMs, lhs.value) < (rhs.timestampMs, rhs.value)
    }
}

/// A payload that carries the wall-clock time of its write.
protocol TimestampedPayload {
    /// Coordinator wall-clock time of the write, in ms since the Unix epoch.
    var timestampMs: UInt64 { get }
}

extension DotMap where Payload: TimestampedPayload {
    /// The LWW winner: the entry with the greatest `(timestampMs, replica, counter)`.
    var lastWriterWinsEntry: Payload? {
        entries.max { lhs, rhs in
            (lhs.value.timestampMs, lhs.key.replica, lhs.key.counter)
                < (rhs.value.timestampMs, rhs.key.replica, rhs.key.counter)
        }?.value
    }
}
