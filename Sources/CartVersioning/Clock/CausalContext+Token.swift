/// The opaque context token clients read and send back: base64 of a kind-3 record.
extension CausalContext {
    /// The token for this context (standard base64 of `RecordCodec.encode(self)`).
    public func token(limits: VersioningLimits = .default) throws(RecordCodecError) -> String {
        Base64.encode(try RecordCodec.encode(self, limits: limits))
    }

    /// Parses a token a client sent back; the empty string is the empty context.
    public init(token: String, limits: VersioningLimits = .default) throws(RecordCodecError) {
        if token.isEmpty {
            self.init()
            return
        }
        guard token.utf8.count <= (limits.recordBytesMax + 2) / 3 * 4, let bytes = Base64.decode(token) else {
            throw RecordCodecError(.invalidToken, offset: 0, expected: "a base64 context token")
        }
        self = try RecordCodec.decodeContext(bytes, limits: limits)
    }
}
