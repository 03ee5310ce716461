import CartCluster
import Crypto

/// The cryptography of the peer transport's handshake and message authentication
/// (data-format.md, "Peer transport frames"), as pure functions of the cluster secret.
///
/// A connection opens with a mutual challenge–response: the listener sends a fresh 32-byte
/// challenge `Ns`, the dialer answers with its own `Nc` and `HMAC(secret, "cartstore hello v1" ‖
/// Ns ‖ Nc ‖ dialer ‖ listener)`, the listener proves itself with the same over
/// `"cartstore welcome v1"`. Both challenges are fresh per connection, so a recorded handshake
/// proves nothing on a new one. Each message then carries a sequence number and a 16-byte tag
/// `HMAC(session, seq ‖ message)` under `session = HMAC(secret, "cartstore session v1" ‖ Ns ‖ Nc
/// ‖ dialer ‖ listener)`, so a message cannot be forged, replayed, reordered or moved to another
/// connection. Messages are not encrypted: run the peer port on a private network.
///
/// Thread safety: a `Sendable` value.
public struct PeerHandshake: Sendable {
    public static let challengeBytes = 32
    public static let proofBytes = 32
    public static let tagBytes = 16

    private let secret: SymmetricKey

    public init(secret: [UInt8]) {
        self.secret = SymmetricKey(data: secret)
    }

    /// A fresh random challenge.
    public static func freshChallenge() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<challengeBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The dialer's proof.
    public func helloProof(listenerChallenge: [UInt8], dialerChallenge: [UInt8], dialer: NodeID, listener: NodeID) -> [UInt8] {
        mac("cartstore hello v1", listenerChallenge, dialerChallenge, dialer, listener)
    }

    /// The listener's proof.
    public func welcomeProof(listenerChallenge: [UInt8], dialerChallenge: [UInt8], dialer: NodeID, listener: NodeID) -> [UInt8] {
        mac("cartstore welcome v1", listenerChallenge, dialerChallenge, dialer, listener)
    }

    /// The key that authenticates the connection's messages.
    public func sessionKey(listenerChallenge: [UInt8], dialerChallenge: [UInt8], dialer: NodeID, listener: NodeID) -> SymmetricKey {
        SymmetricKey(data: mac("cartstore session v1", listenerChallenge, dialerChallenge, dialer, listener))
    }

    /// The tag of message `sequence` with bytes `message`.
    public static func tag(sequence: UInt64, message: some Collection<UInt8>, key: SymmetricKey) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: bigEndian(sequence))
        hmac.update(data: Array(message))
        return Array(Array(hmac.finalize()).prefix(tagBytes))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }

    /// The 8 big-endian bytes of `value` (node ids and sequence numbers in frames).
    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }

    /// The value of the first 8 bytes of `bytes`, big-endian (the caller checked there are 8).
    static func uint64(bigEndian bytes: some Collection<UInt8>) -> UInt64 {
        bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private func mac(_ label: String, _ listenerChallenge: [UInt8], _ dialerChallenge: [UInt8],
                     _ dialer: NodeID, _ listener: NodeID) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: secret)
        hmac.update(data: Array(label.utf8))
        hmac.update(data: listenerChallenge)
        hmac.update(data: dialerChallenge)
        hmac.update(data: Self.bigEndian(dialer.value))
        hmac.update(data: Self.bigEndian(listener.value))
        return Array(hmac.finalize())
    }
}
