import CartStorage
/// db_bench-style keys: the key index as 16 zero-padded decimal digits, right-padded with `0`
/// to `keySize` bytes (or, for sizes under 16, its last `keySize` digits), so keys sort in
/// index order and have a fixed size.
struct KeyFormatter: Sendable {
    static let digitCount = 16
    let keySize: Int

    /// A buffer for `fill`: `keySize` bytes of ASCII `0`.
    func makeBuffer() -> [UInt8] { [UInt8](repeating: UInt8(ascii: "0"), count: keySize) }

    /// Writes the key of `index` into `buffer` (made by `makeBuffer`).
    @inline(__always)
    func fill(_ buffer: inout [UInt8], index: UInt64) {
        let written = min(keySize, Self.digitCount)
        buffer.withUnsafeMutableBufferPointer { out in
            var v = index
            var p = written - 1
            while p >= 0 {
                out[p] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
                p -= 1
            }
        }
    }

    /// Writes a key that sorts just before the key of `index` and exists in no run: the key with
    /// its last byte replaced by `.` (which is not a digit).
    @inline(__always)
    func fillMissing(_ buffer: inout [UInt8], index: UInt64) {
        fill(&buffer, index: index)
        if keySize > 0 { buffer[keySize - 1] = UInt8(ascii: ".") }
    }

    func key(_ index: UInt64) -> [UInt8] {
        var b = makeBuffer()
        fill(&b, index: index)
        return b
    }
}

/// Values that compress to about half their size, like db_bench's `--compression_ratio=0.5`:
/// a buffer (1 MiB, or one value if larger) built from 100-byte pieces, each 50 random printable
/// bytes repeated twice; values are consecutive slices of it, wrapping to the start.
struct ValueSource: Sendable {
    static let pieceBytes = 100
    static let bufferBytesMin = 1 << 20
    static let seed: UInt64 = 301

    let data: [UInt8]

    init(valueSize: Int, compressionRatio: Double = 0.5) {
        let total = max(Self.bufferBytesMin, valueSize)
        var rng = SplitMix64(seed: Self.seed)
        var out = [UInt8]()
        out.reserveCapacity(total + Self.pieceBytes)
        let rawBytes = max(1, Int(Double(Self.pieceBytes) * compressionRatio))
        var raw = [UInt8](repeating: 0, count: rawBytes)
        while out.count < total {
            for i in 0..<rawBytes { raw[i] = UInt8(ascii: " ") &+ UInt8(truncatingIfNeeded: rng.uniform(95)) }
            var piece = 0
            while piece < Self.pieceBytes {
                let n = min(rawBytes, Self.pieceBytes - piece)
                out.append(contentsOf: raw[0..<n])
                piece += n
            }
        }
        data = Array(out[0..<total])
    }

    /// A cursor over `data`; each thread has its own.
    struct Cursor {
        let source: ValueSource
        var position = 0

        @inline(__always)
        mutating func next(_ length: Int) -> ArraySlice<UInt8> {
            if position + length > source.data.count { position = 0 }
            defer { position += length }
            return source.data[position..<(position + length)]
        }
    }
}
