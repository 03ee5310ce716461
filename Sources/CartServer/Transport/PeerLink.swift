import CartCluster
import DequeModule
import NIOCore
import NIOPosix
import Synchronization

/// This node's outgoing connection to one peer: dials it, authenticates, and writes messages to
/// it in order. While the session is not open (or the socket is not writable) messages wait in a
/// queue bounded in count and bytes; past the bound they are dropped and counted (the protocol
/// treats the network as lossy: timeouts, fallbacks and hints cover a lost message), so a dead
/// or slow peer costs bounded memory. A closed or failed connection is dialled again with
/// exponential backoff (100 ms doubling to 5 s, with jitter) until the transport stops.
///
/// Thread safety: `Sendable`; its state is in a `Mutex`.
final class PeerLink: Sendable {
    static let queuedMessagesMax = 8_192
    static let queuedBytesMax = 16 << 20

    enum Phase {
        case idle
        case connecting
        case open(any Channel)
        case stopped
    }

    struct State {
        var phase = Phase.idle
        var queue = Deque<[UInt8]>()
        var queuedBytes = 0
        var failures = 0
        /// A `drain` task is on its way to the event loop.
        var flushScheduled = false
    }

    let peer: NodeID
    let address: HostPort
    unowned let transport: PeerTransport
    private let state = Mutex(State())

    init(peer: NodeID, address: HostPort, transport: PeerTransport) {
        self.peer = peer
        self.address = address
        self.transport = transport
    }

    /// True while an authenticated session is open.
    var isOpen: Bool { state.withLock { if case .open = $0.phase { return true } else { return false } } }

    /// Queues one encoded message; `flush` writes what is queued.
    func send(_ message: [UInt8]) {
        let dial = state.withLock { state -> Bool in
            if case .stopped = state.phase { return false }
            if state.queue.count < Self.queuedMessagesMax, state.queuedBytes + message.count <= Self.queuedBytesMax {
                state.queue.append(message)
                state.queuedBytes += message.count
            } else {
                transport.counters.droppedMessages.add(1, ordering: .relaxed)
            }
            if case .idle = state.phase {
                state.phase = .connecting
                return true
            }
            return false
        }
        if dial { connect() }
    }

    /// Writes every queued message to the open session in one task on its event loop, with one
    /// flush (the node runtime calls this after each batch of events, so a busy moment costs
    /// one write system call per peer rather than one per message). Nothing happens while the
    /// session is not open; what is queued waits, within the bounds.
    func flush() {
        state.withLock { state in
            guard case let .open(channel) = state.phase, !state.queue.isEmpty, !state.flushScheduled else { return }
            state.flushScheduled = true
            channel.eventLoop.execute { self.drain(channel) }
        }
    }

    /// Runs on `channel`'s event loop: takes the queue (if `channel` is still the open session
    /// and can take more) and writes it. The lock is released before the pipeline runs: its
    /// writability events call back into this link.
    private func drain(_ channel: any Channel) {
        let batch = state.withLock { state -> [[UInt8]] in
            state.flushScheduled = false
            guard case let .open(current) = state.phase, current === channel, channel.isWritable else { return [] }
            defer {
                state.queue.removeAll(keepingCapacity: true)
                state.queuedBytes = 0
            }
            return Array(state.queue)
        }
        guard !batch.isEmpty else { return }
        for message in batch { channel.write(message, promise: nil) }
        channel.flush()
    }

    /// Starts dialling (at transport start: members' status shows at once).
    func start() {
        let dial = state.withLock { state -> Bool in
            guard case .idle = state.phase else { return false }
            state.phase = .connecting
            return true
        }
        if dial { connect() }
    }

    /// The session opened on `channel`: writes what waited.
    func opened(_ channel: any Channel) {
        state.withLock { state in
            guard case .connecting = state.phase else { return }
            state.phase = .open(channel)
            state.failures = 0
        }
        transport.logger.info("peer link open", metadata: ["peer": "\(peer)", "address": "\(address)"])
        flush()
    }

    /// The socket can take more: writes what waited.
    func writable() { flush() }

    /// Closes the connection for good.
    func stop() {
        let channel = state.withLock { state -> (any Channel)? in
            defer {
                state.phase = .stopped
                state.queue.removeAll()
                state.queuedBytes = 0
            }
            if case let .open(channel) = state.phase { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    private func connect() {
        let bootstrap = ClientBootstrap(group: transport.group)
            .connectTimeout(.seconds(1))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(handshakeFrames: 2)))
                    try channel.pipeline.syncOperations.addHandler(PeerOutboundHandler(link: self))
                }
            }
        bootstrap.connect(host: address.host, port: address.port).whenComplete { [self] result in
            switch result {
            case let .success(channel):
                channel.closeFuture.whenComplete { [self] _ in disconnected() }
            case .failure:
                disconnected()
            }
        }
    }

    /// The connection failed or closed: dial again after the backoff.
    private func disconnected() {
        let delay = state.withLock { state -> Int64? in
            if case .stopped = state.phase { return nil }
            state.phase = .connecting
            state.failures += 1
            let base = min(5_000, 100 << min(state.failures - 1, 6))
            return Int64(base / 2 + Int.random(in: 0...(base / 2)))
        }
        guard let delay else { return }
        transport.group.next().scheduleTask(in: .milliseconds(delay)) { [self] in
            if case .stopped = state.withLock({ $0.phase }) { return }
            connect()
        }
    }
}
