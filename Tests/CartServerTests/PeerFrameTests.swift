import CartCluster
@testable import CartServer
import NIOCore
import Testing

/// The peer transport's frames and handshake proofs, byte for byte.
@Suite("Peer frames and handshake")
struct PeerFrameTests {
    @Test("a frame reads back, and any damaged byte is refused")
    func roundTripAndDamage() throws {
        let frame = PeerFrame(kind: .message, payload: Array("hello".utf8))
        var buffer = ByteBuffer()
        frame.write(into: &buffer)
        #expect(buffer.readableBytes == 5 + PeerFrame.overhead)
        var copy = buffer
        #expect(try PeerFrame.read(from: &copy) == frame)
        #expect(copy.readableBytes == 0)
        for index in 4..<buffer.readableBytes {
            var damaged = buffer
            damaged.setInteger(damaged.getInteger(at: index, as: UInt8.self)! ^ 0x40, at: index)
            #expect(throws: PeerFrame.DecodeError.self) { _ = try PeerFrame.read(from: &damaged) }
        }
        for length in 0..<buffer.readableBytes {
            var prefix = buffer.getSlice(at: 0, length: length)!
            #expect(try PeerFrame.read(from: &prefix) == nil, "a prefix of \(length) bytes waits for more")
        }
    }

    @Test("the worked example of data-format.md is what the encoder writes")
    func workedExample() {
        var buffer = ByteBuffer()
        PeerFrame(kind: .challenge, payload: PeerHandshake.bigEndian(2) + Array(0..<32)).write(into: &buffer)
        let hex = buffer.readableBytesView.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(hex.joined() == "0000002e01010000000000000002000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f48883675")
    }

    @Test("lengths outside the phase's limit are refused before buffering")
    func lengthLimits() {
        var big = ByteBuffer()
        big.writeInteger(UInt32(PeerFrame.handshakeLengthMax + 1), endianness: .big)
        #expect(throws: PeerFrame.DecodeError.length(PeerFrame.handshakeLengthMax + 1)) {
            _ = try PeerFrame.read(from: &big, lengthMax: PeerFrame.handshakeLengthMax)
        }
        var tiny = ByteBuffer()
        tiny.writeInteger(UInt32(5), endianness: .big)
        #expect(throws: PeerFrame.DecodeError.length(5)) { _ = try PeerFrame.read(from: &tiny) }
    }

    @Test("proofs depend on the secret, both challenges and both node ids")
    func proofs() {
        let secret = PeerHandshake(secret: Array(repeating: 7, count: 32))
        let other = PeerHandshake(secret: Array(repeating: 8, count: 32))
        let ns = Array(repeating: UInt8(1), count: 32), nc = Array(repeating: UInt8(2), count: 32)
        let proof = secret.helloProof(listenerChallenge: ns, dialerChallenge: nc, dialer: NodeID(1), listener: NodeID(2))
        #expect(proof.count == PeerHandshake.proofBytes)
        #expect(proof != other.helloProof(listenerChallenge: ns, dialerChallenge: nc, dialer: NodeID(1), listener: NodeID(2)))
        #expect(proof != secret.helloProof(listenerChallenge: nc, dialerChallenge: ns, dialer: NodeID(1), listener: NodeID(2)))
        #expect(proof != secret.helloProof(listenerChallenge: ns, dialerChallenge: nc, dialer: NodeID(3), listener: NodeID(2)))
        #expect(proof != secret.welcomeProof(listenerChallenge: ns, dialerChallenge: nc, dialer: NodeID(1), listener: NodeID(2)))
        #expect(PeerHandshake.freshChallenge() != PeerHandshake.freshChallenge())
        let key = secret.sessionKey(listenerChallenge: ns, dialerChallenge: nc, dialer: NodeID(1), listener: NodeID(2))
        let tag = PeerHandshake.tag(sequence: 0, message: [1, 2, 3], key: key)
        #expect(tag.count == PeerHandshake.tagBytes)
        #expect(tag != PeerHandshake.tag(sequence: 1, message: [1, 2, 3], key: key), "a replayed message under another sequence fails")
        #expect(PeerHandshake.constantTimeEqual(tag, PeerHandshake.tag(sequence: 0, message: [1, 2, 3], key: key)))
    }
}
