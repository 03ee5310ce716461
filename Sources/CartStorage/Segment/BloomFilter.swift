/// A bloom filter over the user keys of one segment, so that point reads skip segments that
/// cannot hold the key.
///
/// Layout: `bits[ceil(n*bitsPerKey/8)] probes:u8`. Probe j of a key sets bit
/// `(h1 + j*h2) mod (8*len(bits))` where h1/h2 are the low/high 32 bits of `Hash64.hash(key)`
/// (Kirsch–Mitzenmacher double hashing). About 10 bits per key gives ~1% false positives.
enum BloomFilter {
    static let bitsPerKeyDefault = 10

    /// Builds the filter from the 64-bit hashes of the keys.
    static func build(hashes: [UInt64], bitsPerKey: Int = bitsPerKeyDefault) -> [UInt8] {
        let probes = max(1, min(30, Int(Double(bitsPerKey) * 0.69)))
        let bitCount = max(64, hashes.count * bitsPerKey)
        let byteCount = (bitCount + 7) / 8
        let bits = byteCount * 8
        var out = [UInt8](repeating: 0, count: byteCount + 1)
        out.withUnsafeMutableBufferPointer { buf in
            for h in hashes {
                var h1 = UInt32(truncatingIfNeeded: h)
                let h2 = UInt32(truncatingIfNeeded: h >> 32)
                for _ in 0..<probes {
                    let bit = Int(h1) % bits
                    buf[bit >> 3] |= 1 << UInt8(bit & 7)
                    h1 = h1 &+ h2
                }
            }
            buf[byteCount] = UInt8(probes)
        }
        return out
    }

    /// False only if the key was certainly not added. A malformed filter answers true (the
    /// reader then consults the data, which is always correct).
    static func mayContain(_ filter: [UInt8], hash h: UInt64) -> Bool {
        guard filter.count >= 2 else { return true }
        let probes = Int(filter[filter.count - 1])
        guard probes >= 1 && probes <= 30 else { return true }
        let bits = (filter.count - 1) * 8
        var h1 = UInt32(truncatingIfNeeded: h)
        let h2 = UInt32(truncatingIfNeeded: h >> 32)
        return filter.withUnsafeBufferPointer { buf in
            for _ in 0..<probes {
                let bit = Int(h1) % bits
                if buf[bit >> 3] & (1 << UInt8(bit & 7)) == 0 { return false }
                h1 = h1 &+ h2
            }
            return true
        }
    }
}
