/// An internal key taken apart: the user key, the 56-bit sequence number and the kind byte of
/// its 8-byte trailer (`fixed64_le(sequence << 8 | kind)`, see `InternalKey`).
///
/// `kindRaw` is kept as read: a value that is not a known `ValueKind` is shown, not dropped.
/// Value type; `Sendable`.
public struct InspectedKey: Sendable, Equatable {
    public let userKey: [UInt8]
    public let sequence: UInt64
    public let kindRaw: UInt8

    public init(userKey: [UInt8], sequence: UInt64, kindRaw: UInt8) {
        self.userKey = userKey
        self.sequence = sequence
        self.kindRaw = kindRaw
    }

    /// Decodes an encoded internal key; nil if it is shorter than its 8-byte trailer.
    public init?(encoded: ArraySlice<UInt8>) {
        guard encoded.count >= InternalKey.trailerSize else { return nil }
        let trailer = InternalKey.trailer(encoded)
        self.init(userKey: Array(InternalKey.userKey(encoded)), sequence: trailer >> 8,
                  kindRaw: UInt8(truncatingIfNeeded: trailer))
    }

    public init?(encoded: [UInt8]) { self.init(encoded: encoded[...]) }

    /// The kind, or nil for a raw value no format version defines.
    public var kind: ValueKind? { ValueKind(rawValue: kindRaw) }

    /// "PUT", "DEL" or "KIND<n>" for an unknown raw value.
    public var kindName: String {
        switch kind {
        case .value?: return "PUT"
        case .deletion?: return "DEL"
        case nil: return "KIND\(kindRaw)"
        }
    }
}
