import CartCluster
import Crypto
import Logging
import NIOCore

/// The listener's side of one peer connection: challenges the dialer, checks its proof, then
/// takes its authenticated messages and hands them to the transport's receiver. Anything that is
/// not exactly the protocol (a bad proof, an unknown node, a bad frame, a tag or sequence that
/// does not verify) is logged with the remote address and closes the connection; nothing from
/// an unauthenticated connection reaches the node.
///
/// Thread safety: used on its channel's event loop only.
final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello(challenge: [UInt8])
        case open(peer: NodeID, key: SymmetricKey, nextSequence: UInt64)
        case closed
    }

    private let transport: PeerTransport
    private var state: State = .closed
    private var logger: Logger
    private var handshakeTimeout: Scheduled<Void>?

    init(transport: PeerTransport) {
        self.transport = transport
        self.logger = transport.logger
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "remote"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        let challenge = PeerHandshake.freshChallenge()
        state = .awaitingHello(challenge: challenge)
        send(PeerFrame(kind: .challenge, payload: PeerHandshake.bigEndian(transport.node.value) + challenge), context: context)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeTimeout = context.eventLoop.scheduleTask(in: .seconds(5)) {
            let (handler, context) = loopBound.value
            if case .awaitingHello = handler.state { handler.refuse("handshake timed out", context: context) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimeout?.cancel()
        state = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case let .awaitingHello(challenge):
            guard frame.kind == .hello else { return refuse("expected hello, got \(frame.kind)", context: context) }
            hello(frame.payload, challenge: challenge, context: context)
        case let .open(peer, key, nextSequence):
            guard frame.kind == .message, frame.payload.count >= 8 + PeerHandshake.tagBytes else {
                return fail("unexpected \(frame.kind) frame of \(frame.payload.count) bytes from \(peer)", context: context)
            }
            let sequence = PeerHandshake.uint64(bigEndian: frame.payload)
            let body = frame.payload.dropFirst(8).dropLast(PeerHandshake.tagBytes)
            let tag = PeerHandshake.tag(sequence: sequence, message: body, key: key)
            guard sequence == nextSequence,
                  PeerHandshake.constantTimeEqual(tag, frame.payload.suffix(PeerHandshake.tagBytes)) else {
                transport.counters.rejectedMessages.add(1, ordering: .relaxed)
                return fail("message \(sequence) from \(peer) fails authentication (expected sequence \(nextSequence))", context: context)
            }
            state = .open(peer: peer, key: key, nextSequence: nextSequence + 1)
            do {
                let message = try ClusterMessageCodec.decode(Array(body))
                transport.receive(message, from: peer)
            } catch {
                transport.counters.rejectedMessages.add(1, ordering: .relaxed)
                fail("undecodable message from \(peer): \(error)", context: context)
            }
        case .closed:
            return
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .awaitingHello = state {
            transport.counters.refusedHandshakes.add(1, ordering: .relaxed)
        }
        logger.warning("peer connection closed", metadata: ["error": "\(error)"])
        state = .closed
        context.close(promise: nil)
    }

    private func hello(_ payload: [UInt8], challenge: [UInt8], context: ChannelHandlerContext) {
        guard payload.count == 16 + PeerHandshake.challengeBytes + PeerHandshake.proofBytes else {
            return refuse("malformed hello of \(payload.count) bytes", context: context)
        }
        let dialer = NodeID(PeerHandshake.uint64(bigEndian: payload))
        let listener = NodeID(PeerHandshake.uint64(bigEndian: payload.dropFirst(8)))
        let dialerChallenge = Array(payload.dropFirst(16).prefix(PeerHandshake.challengeBytes))
        let proof = payload.suffix(PeerHandshake.proofBytes)
        guard listener == transport.node else { return refuse("hello for node \(listener), this is \(transport.node)", context: context) }
        guard dialer != transport.node, transport.isMember(dialer) else {
            return refuse("node \(dialer) is not a member of this cluster", context: context)
        }
        let expected = transport.handshake.helloProof(listenerChallenge: challenge, dialerChallenge: dialerChallenge,
                                                      dialer: dialer, listener: listener)
        guard PeerHandshake.constantTimeEqual(expected, proof) else {
            return refuse("node \(dialer) does not hold the cluster secret", context: context)
        }
        handshakeTimeout?.cancel()
        let welcome = transport.handshake.welcomeProof(listenerChallenge: challenge, dialerChallenge: dialerChallenge,
                                                       dialer: dialer, listener: listener)
        send(PeerFrame(kind: .welcome, payload: welcome), context: context)
        let key = transport.handshake.sessionKey(listenerChallenge: challenge, dialerChallenge: dialerChallenge,
                                                 dialer: dialer, listener: listener)
        state = .open(peer: dialer, key: key, nextSequence: 0)
        logger[metadataKey: "peer"] = "\(dialer)"
        logger.info("peer authenticated")
    }

    /// Answers a failed handshake with its reason, logs it and closes.
    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        transport.counters.refusedHandshakes.add(1, ordering: .relaxed)
        logger.warning("peer refused", metadata: ["reason": "\(reason)"])
        send(PeerFrame(kind: .refused, payload: Array(reason.utf8.prefix(512))), context: context)
        state = .closed
        context.close(promise: nil)
    }

    /// Logs a broken session and closes it.
    private func fail(_ reason: String, context: ChannelHandlerContext) {
        logger.warning("peer connection closed", metadata: ["reason": "\(reason)"])
        state = .closed
        context.close(promise: nil)
    }

    private func send(_ frame: PeerFrame, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: frame.payload.count + PeerFrame.overhead)
        frame.write(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
