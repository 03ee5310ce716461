/// One version of an opaque value: the bytes a client wrote, or a deletion marker.
///
/// The dot that names this version lives in the `SiblingSet` that holds it, not here.
///
/// Thread safety: a `Sendable` value type.
public struct Sibling: Hashable, Sendable {
    /// The client's bytes; empty for a deletion.
    public var value: [UInt8]
    /// True if this version records a delete of the key (a key tombstone).
    public var isDeletion: Bool
    /// Coordinator wall-clock time of the write, in milliseconds since the Unix epoch.
    /// Used only to pick a winner among concurrent versions (LWW, sibling cap), never for causality.
    public var timestampMs: UInt64

    /// A value version.
    public init(value: [UInt8], timestampMs: UInt64) {
        self.value = value
        self.isDeletion = false
        self.timestampMs = timestampMs
    }

    /// A deletion version (key tombstone).
    public static func deletion(timestampMs: UInt64) -> Sibling {
        var sibling = Sibling(value: [], timestampMs: timestampMs)
        sibling.isDeletion = true
        return sibling
    }
}
