import CZlib

/// CRC-32 (ISO-HDLC / zlib polynomial 0xEDB88320, as computed by zlib's `crc32`) over byte
/// ranges. Every checksum in every CartStorage file is this function; `data-format.md` says
/// exactly which bytes each one covers. Public for the layers above (the peer transport's
/// frames use the same CRC).
public enum Checksum {
    /// CRC-32 of `bytes`, continuing from `seed` (0 starts a new checksum).
    @inline(__always)
    static func crc32<C: ContiguousBytes>(_ bytes: C, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { raw -> UInt32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return seed }
            return UInt32(CZlib.crc32_z(UInt(seed), base.assumingMemoryBound(to: UInt8.self), raw.count))
        }
    }

    /// CRC-32 of `bytes`, continuing from `seed` (for callers outside the module).
    public static func crc32(of bytes: [UInt8], seed: UInt32 = 0) -> UInt32 { crc32(bytes, seed: seed) }

    /// CRC-32 of a raw buffer.
    @inline(__always)
    public static func crc32(_ raw: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = raw.baseAddress, raw.count > 0 else { return seed }
        return UInt32(CZlib.crc32_z(UInt(seed), base.assumingMemoryBound(to: UInt8.self), raw.count))
    }
}

/// The byte containers we checksum. Internal: a public protocol of this name would clash with
/// Foundation's `ContiguousBytes` in code that imports both modules.
protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
