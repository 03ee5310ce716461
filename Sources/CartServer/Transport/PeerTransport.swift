import CartCluster
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The internode transport: one listener for peers' connections and one outgoing `PeerLink` per
/// peer. Messages travel one way on a connection (dialer → listener), so a node sends on its own
/// links and receives on its listener's connections; both are authenticated with the cluster
/// secret (`PeerHandshake`). The only way bytes from the network reach the node is `receive`,
/// called after a message's tag verified.
///
/// Thread safety: `Sendable`.
public final class PeerTransport: Sendable {
    /// What the transport counted (exported as metrics).
    public final class Counters: Sendable {
        public let refusedHandshakes = Atomic<Int>(0)
        public let rejectedMessages = Atomic<Int>(0)
        public let droppedMessages = Atomic<Int>(0)
        public let unencodableMessages = Atomic<Int>(0)
    }

    public let node: NodeID
    let handshake: PeerHandshake
    let group: any EventLoopGroup
    let logger: Logger
    public let counters = Counters()
    private let members: [NodeID: Member]
    private let listenAddress: HostPort
    /// Set once at the end of `init` (a link refers back to its transport).
    private let linkTable = Mutex<[NodeID: PeerLink]>([:])
    /// Where authenticated messages go. Boxed: a bare closure in a `Mutex` is reabstracted on
    /// every `withLock` (its `inout` write-back wraps it in two more thunks each time), which
    /// made every delivery slower than the last.
    private struct Receiver: Sendable {
        let deliver: @Sendable (ClusterMessage, NodeID) -> Void
    }
    private let receiver = Mutex<Receiver?>(nil)
    private let listener = Mutex<(any Channel)?>(nil)
    private let inbound = Mutex<[ObjectIdentifier: any Channel]>([:])

    public init(node: NodeID, members: [Member], listen: HostPort, secret: [UInt8], group: any EventLoopGroup, logger: Logger) {
        self.node = node
        self.handshake = PeerHandshake(secret: secret)
        self.group = group
        self.logger = logger
        self.listenAddress = listen
        self.members = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0) })
        var links: [NodeID: PeerLink] = [:]
        for member in members where member.id != node {
            links[member.id] = PeerLink(peer: member.id, address: member.peer, transport: self)
        }
        linkTable.withLock { $0 = links }
    }

    private var links: [NodeID: PeerLink] { linkTable.withLock { $0 } }

    func isMember(_ node: NodeID) -> Bool { members[node] != nil }

    /// Sets where authenticated messages go (the node runtime).
    public func setReceiver(_ receiver: @escaping @Sendable (ClusterMessage, NodeID) -> Void) {
        self.receiver.withLock { $0 = Receiver(deliver: receiver) }
    }

    func receive(_ message: ClusterMessage, from peer: NodeID) {
        receiver.withLock { $0 }?.deliver(message, peer)
    }

    /// Queues `message` for `peer` (best effort); `flush` sends it.
    public func send(_ message: ClusterMessage, to peer: NodeID) {
        guard let link = links[peer] else {
            logger.error("message for a node that is not a member", metadata: ["peer": "\(peer)"])
            return
        }
        do {
            link.send(try ClusterMessageCodec.encode(message))
        } catch {
            counters.unencodableMessages.add(1, ordering: .relaxed)
            logger.error("message not encodable", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Writes what `send` queued, one batch per peer (after each batch of the node's events).
    public func flush() {
        for link in links.values { link.flush() }
    }

    /// True while this node's link to `peer` has an authenticated session.
    public func isConnected(to peer: NodeID) -> Bool { links[peer]?.isOpen ?? false }

    /// Binds the listener and starts dialling every peer. Returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(handshakeFrames: 1)))
                    try channel.pipeline.syncOperations.addHandler(PeerInboundHandler(transport: self))
                    let id = ObjectIdentifier(channel)
                    inbound.withLock { $0[id] = channel }
                    channel.closeFuture.whenComplete { [self] _ in _ = inbound.withLock { $0.removeValue(forKey: id) } }
                }
            }
        let channel = try await bootstrap.bind(host: listenAddress.host, port: listenAddress.port).get()
        listener.withLock { $0 = channel }
        for link in links.values { link.start() }
        return channel.localAddress!
    }

    /// Stops listening, closes every connection and stops dialling.
    public func stop() async {
        let server = listener.withLock { $0 }
        try? await server?.close()
        for link in links.values { link.stop() }
        let connections = inbound.withLock { Array($0.values) }
        for connection in connections { try? await connection.close() }
    }
}
