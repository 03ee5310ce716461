/// The record framing shared by write-ahead logs and manifests (LevelDB's log format).
///
/// ```
/// file     := block* partial_block?
/// block    := record* trailer?          (blockSize bytes)
/// record   := crc32:u32le length:u16le type:u8 payload[length]
/// trailer  := 0x00{1..6}                 (when fewer than headerSize bytes are left in a block)
/// ```
/// `crc32` covers the type byte followed by the payload. A logical record longer than what
/// fits in the current block is split into FIRST, MIDDLE*, LAST fragments; a record never
/// leaves fewer than `headerSize` bytes unused at the end of a block except as zero trailer.
enum LogFormat {
    /// Size of one block: records are laid out so that a reader can resynchronise at any
    /// multiple of this offset.
    static let blockSize = 32 * 1024
    /// crc32 (4) + length (2) + type (1).
    static let headerSize = 4 + 2 + 1

    /// Fragment types. **Never renumber.** 0 is reserved (zero-filled space is never a record).
    enum RecordType: UInt8 {
        case full = 1
        case first = 2
        case middle = 3
        case last = 4
    }
}
