/// FNV-1a (64-bit) over the run's events, as a fingerprint: two runs of one seed must end with
/// the same value (FoundationDB's unseed check), in one process or in two.
public struct TraceHash: Hashable, Sendable, CustomStringConvertible {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func mix(_ word: UInt64) {
        var word = word
        for _ in 0..<8 {
            value = (value ^ (word & 0xFF)) &* 0x0000_0100_0000_01B3
            word >>= 8
        }
    }

    public mutating func mix(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        mix(0xFF)
    }

    public var description: String { String(value, radix: 16) }
}
