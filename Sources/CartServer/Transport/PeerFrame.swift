import CartCluster
import CartStorage
import NIOCore

/// One frame of the peer transport (data-format.md, "Peer transport frames"):
/// `be32 length ‖ u8 version ‖ u8 kind ‖ payload ‖ be32 CRC-32(version ‖ kind ‖ payload)`, where
/// `length` counts every byte after itself.
public struct PeerFrame: Hashable, Sendable {
    /// The frame format version this build writes and reads.
    public static let version: UInt8 = 1
    /// The largest `length` accepted once a session is open (a message carries at most two
    /// blobs of `ClusterMessageCodec.blobBytesMax`); a bigger one is refused before anything is
    /// buffered.
    public static let lengthMax = 2 * ClusterMessageCodec.blobBytesMax + (1 << 20)
    /// The largest `length` accepted during the handshake, so that a peer that has not proven
    /// anything cannot make this node buffer more.
    public static let handshakeLengthMax = 4_096
    /// Bytes of a frame beyond its payload.
    public static let overhead = 4 + 1 + 1 + 4

    /// What a frame carries.
    public enum Kind: UInt8, Hashable, Sendable {
        /// Listener → dialer, first: the listener's node id and a fresh challenge.
        case challenge = 1
        /// Dialer → listener: its node id, its own challenge, and the proof it holds the secret.
        case hello = 2
        /// Listener → dialer: the proof the listener holds the secret; the session is open.
        case welcome = 3
        /// Listener → dialer: why the handshake failed; the listener then closes.
        case refused = 4
        /// Dialer → listener, once open: one `ClusterMessage`, sequenced and authenticated.
        case message = 5
    }

    public var kind: Kind
    public var payload: [UInt8]

    public init(kind: Kind, payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }

    /// Appends the frame's bytes to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        let crc = Checksum.crc32(of: payload, seed: Checksum.crc32(of: [Self.version, kind.rawValue]))
        buffer.writeInteger(UInt32(2 + payload.count + 4), endianness: .big)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeBytes(payload)
        buffer.writeInteger(crc, endianness: .big)
    }

    /// Why bytes on a peer connection are not a frame. The connection is closed on any of them.
    public enum DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
        case length(Int)
        case version(UInt8)
        case kind(UInt8)
        case checksum(expected: UInt32, actual: UInt32)

        public var description: String {
            switch self {
            case let .length(length): return "frame length \(length) outside 6 and the limit of its phase"
            case let .version(version): return "frame version \(version), this node speaks \(PeerFrame.version)"
            case let .kind(kind): return "unknown frame kind \(kind)"
            case let .checksum(expected, actual):
                return "frame checksum mismatch: stored \(String(expected, radix: 16)), computed \(String(actual, radix: 16))"
            }
        }
    }

    /// Reads one whole frame from the front of `buffer`: nil if more bytes are needed (nothing
    /// consumed), the frame (consumed) or an error.
    public static func read(from buffer: inout ByteBuffer, lengthMax: Int = lengthMax) throws(DecodeError) -> PeerFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else { return nil }
        guard length >= 6, length <= lengthMax else { throw .length(Int(length)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        let start = buffer.readerIndex + 4
        let body = buffer.getBytes(at: start, length: Int(length) - 4)!
        let stored = buffer.getInteger(at: start + Int(length) - 4, endianness: .big, as: UInt32.self)!
        let actual = Checksum.crc32(of: body)
        guard stored == actual else { throw .checksum(expected: stored, actual: actual) }
        guard body[0] == version else { throw .version(body[0]) }
        guard let kind = Kind(rawValue: body[1]) else { throw .kind(body[1]) }
        buffer.moveReaderIndex(forwardBy: 4 + Int(length))
        return PeerFrame(kind: kind, payload: Array(body[2...]))
    }
}

/// Splits a peer connection's bytes into frames. The first `handshakeFrames` frames (the
/// handshake's, on this side of the connection) may be at most `PeerFrame.handshakeLengthMax`
/// long.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerFrame

    /// Handshake frames still to come.
    var handshakeFrames: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let limit = handshakeFrames > 0 ? PeerFrame.handshakeLengthMax : PeerFrame.lengthMax
        guard let frame = try PeerFrame.read(from: &buffer, lengthMax: limit) else { return .needMoreData }
        handshakeFrames = max(0, handshakeFrames - 1)
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
