/// The identity of one client operation on a cart: the HTTP API's `Idempotency-Key` (or one the
/// server generates when the client sends none). Applying the same id twice, at one replica or at
/// two, has the effect of one application (see `OperationLog`).
///
/// Invariant: 1 to `VersioningLimits.operationIDBytesMax` bytes of UTF-8, compared by bytes.
/// Thread safety: a `Sendable` value type.
public struct OperationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let text: UTF8Text

    /// An id from the client's key, as given.
    public init(_ key: String) { text = UTF8Text(key) }

    init(_ text: UTF8Text) { self.text = text }

    public var description: String { text.string }

    public static func < (lhs: OperationID, rhs: OperationID) -> Bool { lhs.text < rhs.text }

    /// Checks the id against `limits`.
    func validate(limits: VersioningLimits) throws(CartOperationError) {
        guard !text.isEmpty, text.bytes.count <= limits.operationIDBytesMax else {
            throw .invalidOperationID(reason: "must have 1...\(limits.operationIDBytesMax) bytes")
        }
    }
}
