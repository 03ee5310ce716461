import CartVersioning

/// The client's name for one checkout (the HTTP API's `Idempotency-Key` on
/// `POST /v1/carts/{user}/checkout`), and the order's id: every attempt with the same id, through
/// any node and at any time, yields the same order or none.
///
/// Invariant: 1 to `bytesMax` bytes of UTF-8 without control characters or `/`, compared by
/// bytes. The order's acceptors are the replicas of `orderKey` (`order:` ‖ id), and the cart
/// clear that completes the checkout carries the operation id `checkout:` ‖ id, so a repeated
/// clear applies once.
///
/// Thread safety: a `Sendable` value type.
public struct CheckoutID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Longest id in bytes (the clear's operation id, `checkout:` ‖ id, must fit
    /// `VersioningLimits.operationIDBytesMax`).
    public static let bytesMax = 48

    /// Why a string is not a checkout id.
    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { "invalid checkout id: \(reason)" }
    }

    public let text: String

    /// Validates `text` as a checkout id.
    public init(_ text: String) throws(Invalid) {
        let bytes = text.utf8.count
        guard (1...Self.bytesMax).contains(bytes) else {
            throw Invalid(reason: "must have 1...\(Self.bytesMax) bytes, has \(bytes)")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "/" }) else {
            throw Invalid(reason: "must not contain control characters or '/'")
        }
        self.text = text
    }

    /// The key whose replicas are the order's acceptors: `order:` ‖ id.
    public var orderKey: [UInt8] { Array("order:".utf8) + Array(text.utf8) }

    /// The operation id of the cart clear that completes this checkout: `checkout:` ‖ id.
    public var clearOperationID: OperationID { OperationID("checkout:" + text) }

    public var description: String { text }

    public static func < (lhs: CheckoutID, rhs: CheckoutID) -> Bool {
        lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
    }

    /// Equal when the bytes are: two spellings of one text (NFC and NFD) are two ids, with two
    /// order keys and two acceptor states.
    public static func == (lhs: CheckoutID, rhs: CheckoutID) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }
}
