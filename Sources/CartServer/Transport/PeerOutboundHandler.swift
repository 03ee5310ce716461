import CartCluster
import Crypto
import Logging
import NIOCore

/// The dialer's side of one peer connection: answers the listener's challenge, checks the
/// listener's proof (a node without the secret never sees a message), then frames each outgoing
/// message with its sequence number and tag. Tells its `PeerLink` when the session opens.
///
/// Thread safety: used on its channel's event loop only.
final class PeerOutboundHandler: ChannelDuplexHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundIn = [UInt8]
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingChallenge
        case awaitingWelcome(listenerChallenge: [UInt8], dialerChallenge: [UInt8])
        case open(key: SymmetricKey, nextSequence: UInt64)
        case closed
    }

    private let link: PeerLink
    private var state: State = .awaitingChallenge
    private let logger: Logger

    init(link: PeerLink) {
        self.link = link
        var logger = link.transport.logger
        logger[metadataKey: "peer"] = "\(link.peer)"
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let transport = link.transport
        switch (state, frame.kind) {
        case (.awaitingChallenge, .challenge):
            guard frame.payload.count == 8 + PeerHandshake.challengeBytes else { return fail("malformed challenge", context: context) }
            let listener = NodeID(PeerHandshake.uint64(bigEndian: frame.payload))
            guard listener == link.peer else {
                return fail("\(link.address) answered as node \(listener), expected \(link.peer)", context: context)
            }
            let listenerChallenge = Array(frame.payload.suffix(PeerHandshake.challengeBytes))
            let dialerChallenge = PeerHandshake.freshChallenge()
            let proof = transport.handshake.helloProof(listenerChallenge: listenerChallenge, dialerChallenge: dialerChallenge,
                                                       dialer: transport.node, listener: listener)
            state = .awaitingWelcome(listenerChallenge: listenerChallenge, dialerChallenge: dialerChallenge)
            var buffer = context.channel.allocator.buffer(capacity: 128)
            PeerFrame(kind: .hello, payload: PeerHandshake.bigEndian(transport.node.value) + PeerHandshake.bigEndian(listener.value)
                      + dialerChallenge + proof).write(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case let (.awaitingWelcome(listenerChallenge, dialerChallenge), .welcome):
            let expected = transport.handshake.welcomeProof(listenerChallenge: listenerChallenge, dialerChallenge: dialerChallenge,
                                                            dialer: transport.node, listener: link.peer)
            guard PeerHandshake.constantTimeEqual(expected, frame.payload) else {
                transport.counters.refusedHandshakes.add(1, ordering: .relaxed)
                return fail("node \(link.peer) at \(link.address) does not hold the cluster secret", context: context)
            }
            let key = transport.handshake.sessionKey(listenerChallenge: listenerChallenge, dialerChallenge: dialerChallenge,
                                                     dialer: transport.node, listener: link.peer)
            state = .open(key: key, nextSequence: 0)
            link.opened(context.channel)
        case (_, .refused):
            fail("refused by \(link.peer): \(String(decoding: frame.payload, as: UTF8.self))", context: context)
        default:
            fail("unexpected \(frame.kind) frame", context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case let .open(key, sequence) = state else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let message = unwrapOutboundIn(data)
        state = .open(key: key, nextSequence: sequence + 1)
        var payload = PeerHandshake.bigEndian(sequence)
        payload.reserveCapacity(8 + message.count + PeerHandshake.tagBytes)
        payload.append(contentsOf: message)
        payload.append(contentsOf: PeerHandshake.tag(sequence: sequence, message: message, key: key))
        var buffer = context.channel.allocator.buffer(capacity: payload.count + PeerFrame.overhead)
        PeerFrame(kind: .message, payload: payload).write(into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.writable() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)", context: context)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        if case .closed = state { return }
        state = .closed
        logger.warning("peer link closed", metadata: ["reason": "\(reason)"])
        context.close(promise: nil)
    }
}
