/// Constants of the segment (sorted table) file format, version 1. See data-format.md,
/// "Segment files".
///
/// ```
/// segment  := data_block+ filter_block meta_block index_block footer   // never empty
/// block    := contents type:u8 crc32:u32le      // crc32 covers contents ++ type
/// footer   := index_handle filter_handle meta_handle   // each offset:u64le size:u64le
///             format_version:u32le footer_crc:u32le magic:u64le
///             // footer_crc covers the 52 bytes before it; the footer is 64 bytes
/// ```
enum SegmentFormat {
    static let magic: UInt64 = 0x3147_4553_5452_4143 // "CARTSEG1" read as little-endian bytes
    static let formatVersion: UInt32 = 1
    static let footerSize = 3 * 16 + 4 + 4 + 8
    /// type (1) + crc32 (4) after each block's contents.
    static let blockTrailerSize = 1 + 4
    static let restartInterval = 16
    /// Compress a block only if that saves at least 1/8 of it.
    static let compressionGainMin = 8

    /// How a block's contents are stored. **Never renumber.**
    enum BlockCompression: UInt8, Sendable {
        /// Stored as is.
        case none = 0
        /// `raw_size:varint` followed by a zlib (RFC 1950) stream.
        case zlib = 1
    }
}

/// Where a block lives in its file: `size` excludes the 5-byte trailer.
struct BlockHandle: Equatable, Sendable {
    var offset: UInt64
    var size: UInt64

    func encode(into w: inout ByteWriter) {
        w.writeVarint(offset)
        w.writeVarint(size)
    }
}
