import CartCluster
import DequeModule
import Dispatch
import Logging
import Synchronization

/// Drives one `ClusterNode` with real time, real sockets and the real engine: the server's
/// counterpart of the simulator's scheduler, and the only place the server touches the protocol.
///
/// Every event (a client request from the HTTP layer, a message from the peer transport, a
/// timer) goes to an inbox drained on one serial dispatch queue, so `ClusterNode.handle` runs on
/// one thread at a time, off the event loops (it calls the engine synchronously).
///
/// **Group commit above the engine.** The engine is opened with `sync = .none`; the runtime
/// handles every event waiting in the inbox, then makes their writes durable with one
/// `StorageEngine.syncWAL()`, and only then carries out their effects, in order: sends go to the
/// transport's bounded per-peer queues, timers to the runtime's timer heap (`RuntimeTimers`, one
/// wake-up on the queue for the earliest), replies to the waiting HTTP
/// handler. So nothing leaves the node (an ack, a reply, a forwarded record) before the writes it
/// depends on are on disk, exactly as if each write had synced, while one fdatasync covers every
/// event of a busy moment instead of one each. If the sync fails the engine stops taking writes
/// (its outcome rule); the batch's sends are dropped, its clients are told the outcome is unknown
/// (`RuntimeError.storageFailed`), and only its timers are kept.
///
/// Lifecycle: `running` from `start` until `stop`; after `stop` no event reaches the node and
/// every waiting client is answered with `RuntimeError.stopped`.
///
/// Thread safety: `Sendable`; the node lives in a `Mutex` taken only on the queue (uncontended),
/// which is what proves it is touched by one thread at a time.
public final class NodeRuntime: Sendable {
    /// Why a client request got no reply from the node.
    public enum RuntimeError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The node stopped before it answered.
        case stopped
        /// The node answered, but the sync that had to make the answer's writes durable failed:
        /// the outcome of a mutation is unknown.
        case storageFailed(String)

        public var description: String {
            switch self {
            case .stopped: return "the node is shutting down"
            case let .storageFailed(detail): return "the node's disk failed before the answer was durable (outcome unknown): \(detail)"
            }
        }
    }

    /// What the admin endpoints show, published after every event.
    public struct Snapshot: Sendable {
        public var statistics = NodeStatistics()
        public var requestsInFlight = 0
        public var suspected: Set<NodeID> = []
        public var waitingClients = 0
        /// Anti-entropy exchanges this node started, in flight.
        public var exchangesInFlight = 0
        /// Every member this node has heard of through gossip (itself included), with the
        /// failure detector's opinion, as of `atMs`.
        public var members: [MemberReport] = []
        /// When the snapshot was taken (the runtime's clock, ms).
        public var atMs: UInt64 = 0
    }

    private enum Phase: Sendable { case created, running, stopped }

    public let configuration: NodeConfiguration
    public let storage: NodeStorage
    private let node: Mutex<ClusterNode>
    private let queue = DispatchQueue(label: "cartstore.node")
    private let clock: WallClock
    private let timers = Mutex(RuntimeTimers())
    private let transport: PeerTransport
    private let logger: Logger
    private let phase = Mutex(Phase.created)
    private let waiting = Mutex<[UInt64: CheckedContinuation<Result<ClientReply, RuntimeError>, Never>]>([:])
    private let nextTag = Atomic<UInt64>(0)
    private let published = Mutex(Snapshot())
    /// Events waiting for the queue, and whether a drain is scheduled.
    private let inbox = Mutex<(events: Deque<NodeEvent>, draining: Bool)>(([], false))
    /// Events handled per durable batch at most (bounds the latency a batch adds).
    static let batchEventsMax = 512

    /// A runtime for the node over `storage`. Throws if the configuration does not validate.
    public init(configuration: NodeConfiguration, storage: NodeStorage, transport: PeerTransport, clock: WallClock,
                logger: Logger) throws(NodeConfiguration.Invalid) {
        self.configuration = configuration
        self.storage = storage
        self.transport = transport
        self.clock = clock
        self.logger = logger
        node = Mutex(try ClusterNode(configuration: configuration, storage: storage, nowMs: clock.nowMs()))
    }

    /// Starts the node: its first timers, and messages from the transport.
    public func start() {
        let started = phase.withLock { phase -> Bool in
            guard case .created = phase else { return false }
            phase = .running
            return true
        }
        precondition(started, "NodeRuntime.start called twice")
        transport.setReceiver { [weak self] message, from in self?.enqueue(.message(message, from: from)) }
        queue.async {
            let now = self.clock.nowMs()
            let effects = self.node.withLock { $0.start(nowMs: now) }
            self.commit(effects, nowMs: now)
        }
    }

    /// Asks the node to handle `request`; returns its reply (by the request's deadline).
    public func submit(_ request: ClientRequest) async -> Result<ClientReply, RuntimeError> {
        let tag = nextTag.wrappingAdd(1, ordering: .relaxed).newValue
        return await withCheckedContinuation { continuation in
            let accepted = phase.withLock { phase -> Bool in
                guard case .running = phase else { return false }
                waiting.withLock { $0[tag] = continuation }
                return true
            }
            guard accepted else { return continuation.resume(returning: .failure(.stopped)) }
            enqueue(.client(request, client: ClientTag(tag)))
        }
    }

    /// What the node counted and holds, as of the last event.
    public var snapshot: Snapshot { published.withLock { $0 } }

    /// Waits (up to `timeoutMs`) until no client request is in flight in the node or waiting
    /// for its reply: the drain of a graceful shutdown.
    public func drain(timeoutMs: UInt64) async {
        let deadline = clock.nowMs() + timeoutMs
        while clock.nowMs() < deadline {
            let busy = published.withLock { $0.requestsInFlight } + waiting.withLock { $0.count }
            if busy == 0 { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops handling events; answers every waiting client with `RuntimeError.stopped`. Waits
    /// for the event being handled, if any, to finish.
    public func stop() {
        let wasRunning = phase.withLock { phase -> Bool in
            defer { phase = .stopped }
            if case .running = phase { return true }
            return false
        }
        guard wasRunning else { return }
        queue.sync {}
        let orphans = waiting.withLock { waiting in
            defer { waiting.removeAll() }
            return Array(waiting.values)
        }
        for continuation in orphans { continuation.resume(returning: .failure(.stopped)) }
    }

    // MARK: - The event loop of the protocol

    /// Arms a wake-up on the queue for the earliest timer, if it is earlier than the armed one.
    private func armTimers(nowMs: UInt64) {
        guard let delay = timers.withLock({ $0.armIfEarlier(nowMs: nowMs) }) else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(clamping: delay))) { [weak self] in self?.fireTimers() }
    }

    /// A wake-up: the due timers become events; the next wake-up is armed. Runs on the queue.
    private func fireTimers() {
        let now = clock.nowMs()
        let due = timers.withLock { $0.takeDue(nowMs: now) }
        for timer in due { enqueue(.timer(timer)) }
        armTimers(nowMs: now)
    }

    private func enqueue(_ event: NodeEvent) {
        let schedule = inbox.withLock { inbox -> Bool in
            inbox.events.append(event)
            defer { inbox.draining = true }
            return !inbox.draining
        }
        if schedule { queue.async { self.handleInbox() } }
    }

    /// Handles what waits in the inbox, batch by batch: every event of a batch, one sync, then
    /// their effects. Runs on the queue.
    private func handleInbox() {
        dispatchPrecondition(condition: .onQueue(queue))
        while true {
            let batch = inbox.withLock { inbox -> [NodeEvent] in
                let taken = Array(inbox.events.prefix(Self.batchEventsMax))
                inbox.events.removeFirst(taken.count)
                if taken.isEmpty { inbox.draining = false }
                return taken
            }
            guard !batch.isEmpty else { return }
            guard phase.withLock({ if case .running = $0 { return true } else { return false } }) else { continue }
            let now = clock.nowMs()
            // An engine that already refuses writes takes none in this batch: nothing to sync,
            // and the batch's answers (reads, refusals) go out as they are.
            let writable = storage.engine.writeRefusal == nil
            var effects: [NodeEffect] = []
            node.withLock { node in
                for event in batch { effects += node.handle(event, nowMs: now) }
            }
            if writable { commit(effects, nowMs: now) } else { perform(effects, nowMs: now) }
        }
    }

    /// Makes the batch's writes durable, then carries out its effects (only its timers if the
    /// sync failed). Runs on the queue.
    private func commit(_ effects: [NodeEffect], nowMs: UInt64) {
        do {
            try storage.engine.syncWAL()
            perform(effects, nowMs: nowMs)
        } catch {
            logger.critical("the engine could not sync: this batch's acks and replies are dropped, writes are refused until restart",
                            metadata: ["error": "\(error)", "effects": "\(effects.count)"])
            // The node counts these clients as answered: tell them the outcome is unknown (a
            // forwarding peer's client is answered by that peer's deadline instead).
            for case let .reply(_, client) in effects {
                let continuation = waiting.withLock { $0.removeValue(forKey: client.value) }
                continuation?.resume(returning: .failure(.storageFailed("\(error)")))
            }
            perform(effects.filter { if case .setTimer = $0 { return true } else { return false } }, nowMs: nowMs)
        }
    }

    /// Carries out `effects` in order. Runs on the queue.
    private func perform(_ effects: [NodeEffect], nowMs: UInt64) {
        dispatchPrecondition(condition: .onQueue(queue))
        for effect in effects {
            switch effect {
            case let .send(message, to):
                transport.send(message, to: to)
            case let .setTimer(timer, atMs):
                timers.withLock { $0.add(timer, atMs: atMs) }
            case let .reply(reply, client):
                let continuation = waiting.withLock { $0.removeValue(forKey: client.value) }
                continuation?.resume(returning: .success(reply))
            }
        }
        transport.flush()
        armTimers(nowMs: nowMs)
        let snapshot = node.withLock { node in
            Snapshot(statistics: node.statistics, requestsInFlight: node.requestsInFlight,
                     suspected: Set(configuration.ring.nodes.filter { node.suspects($0, nowMs: nowMs) }),
                     waitingClients: 0, exchangesInFlight: node.exchangesInFlight,
                     members: node.members(nowMs: nowMs), atMs: nowMs)
        }
        let waitingCount = waiting.withLock { $0.count }
        published.withLock {
            $0 = snapshot
            $0.waitingClients = waitingCount
        }
    }
}
