import CartStorage
import NIOCore
import NIOHTTP1
import NIOPosix

/// One closed-loop, keep-alive client connection of `cartstore-bench http` to one node: it
/// sends a request, waits for the whole response (head, body, end), records it, and sends the
/// next one at once.
///
/// It lives on one event loop, and every method must be called there (the run reaches it
/// through a `NIOLoopBound`). It outlives its channels: when one fails it counts the error,
/// reconnects after `HTTPLoadPlan.reconnectDelay` and carries on with the same random stream.
/// `stop()` closes the channel (a request in flight is abandoned, not counted) and completes
/// `closedFuture` once no channel is left.
final class HTTPLoadConnection {
    /// The request on the wire.
    private struct InFlight {
        let operation: HTTPOperation
        /// Monotonic nanoseconds just before the request was written.
        let start: UInt64
        var status: UInt = 0
        var keepAlive = true
        /// The start of an error answer's body (for its `error` kind).
        var errorBody: [UInt8] = []
    }

    /// Bytes of an error body kept to find its kind.
    private static let errorBodyBytesMax = 512

    let index: Int
    let eventLoop: any EventLoop
    private let node: HTTPNode
    private let plan: HTTPLoadPlan
    private let control: HTTPLoadControl
    private let recorder: HTTPLoadRecorder
    private var rng: SplitMix64
    /// Mutations sent so far (the last part of their `Idempotency-Key`).
    private var sequence: UInt64 = 0

    private var channel: (any Channel)?
    /// The current channel's handler, from its `channelActive` until the channel closes.
    private var handler: HTTPLoadHandler?
    private var connecting = false
    private var inFlight: InFlight?
    /// Set when the server asked to close (`Connection: close`): reconnect without delay or error.
    private var closingCleanly = false
    private var watchdog: Scheduled<Void>?
    private var reconnect: Scheduled<Void>?
    /// No more requests: set by `stop()` or when a fill runs out of users.
    private var stopped = false
    /// `closed` is completed.
    private var done = false
    private let closed: EventLoopPromise<Void>

    /// Completes when the connection has stopped and its channel is closed.
    var closedFuture: EventLoopFuture<Void> { closed.futureResult }

    init(index: Int, eventLoop: any EventLoop, node: HTTPNode, plan: HTTPLoadPlan, control: HTTPLoadControl,
         recorder: HTTPLoadRecorder) {
        self.index = index
        self.eventLoop = eventLoop
        self.node = node
        self.plan = plan
        self.control = control
        self.recorder = recorder
        rng = SplitMix64(seed: plan.seed &+ UInt64(index))
        closed = eventLoop.makePromise(of: Void.self)
    }

    // MARK: - Life cycle

    /// Connects, and from then on keeps one request in flight until `stop()`.
    func start() {
        armWatchdog()
        connect()
    }

    /// Stops issuing requests and closes the channel; `closedFuture` completes when it is closed.
    func stop() {
        guard !done else { return }
        stopped = true
        if let reconnect {
            reconnect.cancel()
            self.reconnect = nil
            finish()
        } else if channel != nil || handler != nil {
            closeChannel()
        } else if !connecting {
            finish()
        }
        // Still connecting: `connectFinished` closes the new channel.
    }

    private func connect() {
        reconnect = nil
        guard !stopped && !fillExhausted else { return finish() }
        connecting = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(plan.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPLoadHandler(connection: bound.value))
                }
            }
            .connect(to: node.address)
            .assumeIsolated()
            .whenComplete { result in
                self.connectFinished(result)
            }
    }

    private func connectFinished(_ result: Result<any Channel, any Error>) {
        connecting = false
        switch result {
        case let .success(newChannel):
            channel = newChannel
            newChannel.closeFuture.assumeIsolated().whenComplete { _ in
                self.channelClosed(newChannel)
            }
            if stopped { closeChannel() }
        case .failure:
            countError("connect")
            scheduleReconnect(after: plan.reconnectDelay)
        }
    }

    /// Called by the handler when its channel is connected: the first request goes out.
    func active(_ handler: HTTPLoadHandler) {
        self.handler = handler
        if stopped {
            handler.close()
        } else {
            sendNext()
        }
    }

    private func channelClosed(_ closedChannel: any Channel) {
        guard let current = channel, current === closedChannel else { return }
        channel = nil
        handler = nil
        if inFlight != nil {
            inFlight = nil
            countError("reset")
        }
        let clean = closingCleanly
        closingCleanly = false
        scheduleReconnect(after: clean ? .zero : plan.reconnectDelay)
    }

    private func scheduleReconnect(after delay: TimeAmount) {
        guard !stopped && !fillExhausted else { return finish() }
        reconnect = eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.connect()
        }
    }

    private func closeChannel() {
        if let handler {
            handler.close()
        } else {
            channel?.close(promise: nil)
        }
    }

    private func finish() {
        guard !done else { return }
        done = true
        stopped = true
        watchdog?.cancel()
        watchdog = nil
        reconnect?.cancel()
        reconnect = nil
        control.connectionsDone.add(1, ordering: .relaxed)
        closed.succeed(())
    }

    /// A fill with every user claimed (a reconnecting fill connection then gives up).
    private var fillExhausted: Bool {
        if case let .fill(count) = plan.mode {
            return control.nextFillUser.load(ordering: .relaxed) >= count
        }
        return false
    }

    // MARK: - Requests

    private func sendNext() {
        guard !stopped, let handler else { return }
        let operation: HTTPOperation
        let user: Int
        switch plan.mode {
        case let .fill(count):
            let claimed = control.nextFillUser.wrappingAdd(1, ordering: .relaxed).oldValue
            guard claimed < count else {
                recorder.stats.endNanoseconds = max(recorder.stats.endNanoseconds, monotonicNanoseconds())
                stopped = true
                closeChannel()
                return
            }
            operation = .add
            user = claimed
        case .timed:
            operation = plan.mix.pick(&rng)
            user = plan.users.next(&rng)
        }
        let sku = Int(rng.uniform(UInt64(plan.skuNames.count)))

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: node.hostHeader)
        let method: HTTPMethod
        let path: String
        var body: ByteBuffer?
        switch operation {
        case .add:
            method = .POST
            path = "/v1/carts/\(user)/items"
            let bytes = plan.addBodies[sku]
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(bytes.readableBytes))
            headers.add(name: "Idempotency-Key", value: nextIdempotencyKey())
            body = bytes
        case .get:
            method = .GET
            path = "/v1/carts/\(user)"
        case .remove:
            method = .DELETE
            path = "/v1/carts/\(user)/items/\(plan.skuNames[sku])"
            headers.add(name: "Idempotency-Key", value: nextIdempotencyKey())
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path + plan.query, headers: headers)
        inFlight = InFlight(operation: operation, start: monotonicNanoseconds())
        handler.send(head, body: body)
    }

    private func nextIdempotencyKey() -> String {
        sequence += 1
        return "\(plan.runID)-\(index)-\(sequence)"
    }

    // MARK: - Responses

    func responseHead(_ head: HTTPResponseHead) {
        guard inFlight != nil else { return }
        inFlight?.status = head.status.code
        inFlight?.keepAlive = head.isKeepAlive
    }

    func responseBody(_ buffer: ByteBuffer) {
        guard let request = inFlight, !(200..<300).contains(request.status) else { return }
        let room = Self.errorBodyBytesMax - request.errorBody.count
        guard room > 0 else { return }
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(room, buffer.readableBytes)) ?? []
        inFlight?.errorBody.append(contentsOf: bytes)
    }

    func responseEnd() {
        guard let request = inFlight else { return }
        inFlight = nil
        let elapsed = monotonicNanoseconds() &- request.start
        let status = request.status
        if (200..<300).contains(status) {
            record(request.operation.success, elapsed)
        } else {
            let kind = JSONText.stringValue(forKey: "error", in: request.errorBody)
            if request.operation == .remove && status == 404 && kind == "item_not_found" {
                record(.removeMissing, elapsed)
            } else {
                countError("http_\(status)" + (kind.map { " " + $0 } ?? ""))
            }
        }
        if !request.keepAlive {
            closingCleanly = true
            closeChannel()
            return
        }
        sendNext()
    }

    /// Called by the handler on a channel error, before it closes the channel.
    func caught(_ error: any Error) {
        guard inFlight != nil else { return }
        inFlight = nil
        countError(error is IOError ? "reset" : "protocol")
    }

    @inline(__always)
    private func record(_ outcome: HTTPOutcome, _ nanoseconds: UInt64) {
        control.completed.add(1, ordering: .relaxed)
        if control.isMeasuring { recorder.stats.record(outcome, nanoseconds: nanoseconds) }
    }

    private func countError(_ kind: String) {
        control.errors.add(1, ordering: .relaxed)
        if control.isMeasuring { recorder.stats.recordError(kind) }
    }

    // MARK: - Timeouts

    /// Checks once a second whether the request in flight has waited longer than the timeout.
    private func armWatchdog() {
        watchdog = eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            self.checkTimeout()
        }
    }

    private func checkTimeout() {
        watchdog = nil
        guard !done else { return }
        if let request = inFlight, monotonicNanoseconds() &- request.start > plan.timeoutNanoseconds {
            inFlight = nil
            countError("timeout")
            closeChannel()
        }
        armWatchdog()
    }
}
