/// One write of a last-writer-wins field (name, price, metadata), tagged in a `DotMap` by the
/// dot of the operation that wrote it.
///
/// A write supersedes every entry of the field its coordinator held, so only concurrent writes
/// coexist; a read picks the greatest `(timestampMs, replica, counter)`. Every change to an
/// item's quantity re-asserts the current winners under its own dot (same value, same
/// timestamp), so an item kept alive by an add concurrent with its removal keeps its details.
///
/// Thread safety: a `Sendable` value type.
struct RegisterEntry<Value: Hashable & Sendable & Comparable>: Hashable, Sendable, Comparable, TimestampedPayload {
    /// The written value.
    var value: Value
    /// Coordinator wall-clock time of the original write, in ms since the Unix epoch.
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
    var lastWriterWins: (dot: Dot, payload: Payload)? {
        entries.max { lhs, rhs in
            (lhs.value.timestampMs, lhs.key.replica, lhs.key.counter)
                < (rhs.value.timestampMs, rhs.key.replica, rhs.key.counter)
        }.map { (dot: $0.key, payload: $0.value) }
    }

    /// The LWW winner's payload.
    var lastWriterWinsEntry: Payload? { lastWriterWins?.payload }
}
