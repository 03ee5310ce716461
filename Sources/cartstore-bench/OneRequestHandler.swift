import NIOCore
import NIOHTTP1

/// The handler of `NodeStatusProbe.get`: sends one request when the channel is active,
/// collects the answer, completes the promise (or fails it on an error, an early close, or
/// after 10 s) and closes the channel.
final class OneRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let promise: EventLoopPromise<NodeStatusProbe.Answer>
    private var status: UInt = 0
    private var body: [UInt8] = []
    private var completed = false
    private var timeout: Scheduled<Void>?

    init(head: HTTPRequestHead, promise: EventLoopPromise<NodeStatusProbe.Answer>) {
        self.head = head
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        let channel = context.channel
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(10)) {
            self.complete(.failure(ChannelError.connectTimeout(.seconds(10))))
            channel.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            status = head.status.code
        case let .body(buffer):
            if body.count < 1 << 20 { body.append(contentsOf: buffer.readableBytesView) }
        case .end:
            complete(.success(NodeStatusProbe.Answer(status: status, body: body)))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(error))
        context.close(promise: nil)
    }

    private func complete(_ result: Result<NodeStatusProbe.Answer, any Error>) {
        guard !completed else { return }
        completed = true
        timeout?.cancel()
        timeout = nil
        promise.completeWith(result)
    }
}
