/// One entry of a segment block or of a WAL batch.
public struct InspectedEntry: Sendable, Equatable {
    public let key: InspectedKey
    /// The value bytes (empty for a deletion).
    public let value: [UInt8]

    public init(key: InspectedKey, value: [UInt8]) {
        self.key = key
        self.value = value
    }
}
