import NIOCore
import NIOHTTP1

/// The last handler of a `cartstore-bench http` connection's pipeline (after
/// `addHTTPClientHandlers()`): hands the response parts to its `HTTPLoadConnection` and writes
/// the requests it builds. One per channel; the connection outlives it across reconnects.
final class HTTPLoadHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let connection: HTTPLoadConnection
    private var context: ChannelHandlerContext?

    init(connection: HTTPLoadConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        connection.active(self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head): connection.responseHead(head)
        case let .body(body): connection.responseBody(body)
        case .end: connection.responseEnd()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.caught(error)
        context.close(promise: nil)
    }

    /// Writes one request and flushes it.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Closes the channel (the connection learns of it through the channel's close future).
    func close() {
        context?.close(promise: nil)
    }
}
