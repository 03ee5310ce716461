import CartStorage
import CartVersioning

/// One node's request path as a sans-I/O state machine (Riak's get and put FSMs and its hinted
/// handoff, as one value): `handle` takes an event with the time it happened and returns the
/// effects to carry out: messages to send, timers to set, replies to clients. It reads no clock,
/// opens no socket and starts no thread; its only side effects are on the node's own storage
/// (`NodeStorage`), called synchronously. The simulator and the server runtime drive the same
/// code.
///
/// What it does:
/// - **Any node accepts any request.** A GET is coordinated where it arrives. A mutation is
///   coordinated by a replica of the key: the receiving node if it is one, else it forwards the
///   request to the first of the key's replicas it does not suspect.
/// - **GET** asks all N replicas, answers with the join of the first R, keeps listening until
///   each replica answered or the replica timeout passed, then read-repairs the ones that
///   answered stale or nothing (rate-limited).
/// - **Mutations** (put, delete, cart operations) gather the other replicas' records (until R
///   answered, counting its own, or the replica timeout), apply the operation on the join at the
///   coordinator's own replica (`ReplicaStore.update`: its durable record supplies the counter
///   its dots continue from), then replicate the resulting record to the other replicas and
///   answer after W durable acks, its own included.
/// - **Sloppy quorum**: a replica suspected (silent past the replica timeout, until it is heard
///   from again or `suspicionMs` passes) is replaced by the next node on the ring that is not a
///   replica, with a hint naming the replica; the fallback's durable ack counts toward W, as in
///   Dynamo. The fallback keeps the record in its `HintStore` and offers it to the owner every
///   `hintDeliveryIntervalMs` until the owner acknowledges it.
/// - **Every request is answered by its deadline**: R or W reached, or a typed `QuorumError`
///   with the counts, or a rejection before anything changed.
///
/// Invariants: the client of each request is answered at most once (`answer` keeps an
/// `answered` flag; the test driver traps on a second reply); no request outlives its deadline
/// (`checkInvariants`, which the simulator runs after every event).
///
/// Thread safety: a `Sendable` value; one driver thread at a time calls `handle`.
public struct ClusterNode: Sendable {
    public let configuration: NodeConfiguration
    public let storage: NodeStorage
    public internal(set) var statistics = NodeStatistics()

    var requests: [UInt64: InFlightRequest] = [:]
    var suspicions: Suspicions
    var repairBudget: TokenBucket
    /// Hint deliveries in flight: message id → what was sent, and when.
    var deliveries: [UInt64: HintDelivery] = [:]
    /// Anti-entropy exchanges this node started, in flight (at most one): id → its state.
    var exchanges: [UInt64: AntiEntropyExchange] = [:]
    /// The next partition to consider for an exchange, and to rebuild.
    var exchangeCursor = 0
    var rebuildCursor = 0
    /// Passes of `exchangeCursor` over the ring, for taking each partition's peers in turn.
    var exchangePass = 0
    /// Checkouts this node coordinates: id → proposer state; phase id → checkout id.
    var checkouts: [UInt64: CheckoutProposal] = [:]
    var checkoutPhases: [UInt64: UInt64] = [:]
    /// The last ballot round this node proposed with (ballots of this life stay unique).
    var lastBallotRound: UInt64 = 0
    /// Order reads in flight.
    var orderReads: [UInt64: OrderRead] = [:]
    /// Replies to checkout steps (origin `.checkout`), handled once the current event is done
    /// (so that a step answered at once never re-enters the checkout that started it).
    var internalReplies: [(phase: UInt64, reply: ClientReply)] = []
    /// What this node knows of every member (gossip), and its failure detector.
    public internal(set) var membership: MembershipView
    var detector: FailureDetector
    /// The gossip peer generator's state.
    var gossipRandom: UInt64
    private var nextID: UInt64

    struct HintDelivery: Sendable {
        let target: NodeID
        let key: [UInt8]
        let record: StoredRecord
        let sentMs: UInt64
    }

    /// A node over `storage`, starting at `nowMs`. Call `start` once before any event. Throws if
    /// `configuration` does not validate.
    public init(configuration: NodeConfiguration, storage: NodeStorage, nowMs: UInt64) throws(NodeConfiguration.Invalid) {
        try configuration.validate()
        guard storage.replicas.treeShape.partitionBits == configuration.ring.partitionBits else {
            throw .treeShape(storage.replicas.treeShape, ringPartitionBits: configuration.ring.partitionBits)
        }
        self.configuration = configuration
        self.storage = storage
        suspicions = Suspicions(suspicionMs: configuration.suspicionMs)
        repairBudget = TokenBucket(ratePerSecond: configuration.readRepairsPerSecond, burst: configuration.readRepairBurst)
        // Ids unique for this node's life and, with a clock that moves forward across restarts,
        // distinct from its earlier lives' (a late reply to an old id is then ignored).
        nextID = nowMs << 20
        membership = MembershipView([MemberRecord(node: configuration.node, address: configuration.address, generation: storage.generation,
                                                  version: 0, status: .normal)])
        detector = FailureDetector(threshold: configuration.phiThreshold, initialIntervalMs: 2 * configuration.gossipIntervalMs,
                                   intervalMaxMs: 20 * configuration.gossipIntervalMs)
        gossipRandom = configuration.node.value &* 0x2545_F491_4F6C_DD1D ^ nowMs
    }

    public var node: NodeID { configuration.node }

    /// The effects due at start: the hint delivery, anti-entropy, tree rebuild and gossip timers.
    public mutating func start(nowMs: UInt64) -> [NodeEffect] {
        [.setTimer(.gossip, atMs: nowMs),
         .setTimer(.hintDelivery, atMs: nowMs + configuration.hintDeliveryIntervalMs),
         .setTimer(.antiEntropy, atMs: nowMs + configuration.antiEntropyIntervalMs),
         .setTimer(.treeRebuild, atMs: nowMs)]
    }

    /// Handles one event that happened at `nowMs`; returns what to do, in order.
    public mutating func handle(_ event: NodeEvent, nowMs: UInt64) -> [NodeEffect] {
        var effects: [NodeEffect] = []
        switch event {
        case let .client(request, client):
            statistics.clientRequests += 1
            accept(request, origin: .client(client), nowMs: nowMs, effects: &effects)
        case let .message(message, from):
            suspicions.heard(from: from)
            detector.contact(from, nowMs: nowMs)
            receive(message, from: from, nowMs: nowMs, effects: &effects)
        case let .timer(timer):
            fire(timer, nowMs: nowMs, effects: &effects)
        }
        while !internalReplies.isEmpty {
            let (phase, reply) = internalReplies.removeFirst()
            checkoutStepAnswered(phase: phase, reply, nowMs: nowMs, effects: &effects)
        }
        return effects
    }

    /// Requests in flight (for status pages and the simulator's hang check).
    public var requestsInFlight: Int { requests.count }

    /// True if this node currently suspects `node`.
    public func suspects(_ node: NodeID, nowMs: UInt64) -> Bool { isDown(node, nowMs: nowMs) }

    /// A description of the first broken invariant at `nowMs`, or nil.
    public func checkInvariants(nowMs: UInt64) -> String? {
        for id in requests.keys.sorted() {
            guard let request = requests[id] else { continue }
            if request.deadlineMs < nowMs { return "request \(id) outlived its deadline \(request.deadlineMs) at \(nowMs)" }
        }
        if exchanges.count > 1 { return "\(exchanges.count) anti-entropy exchanges in flight" }
        for (id, checkout) in checkouts where checkout.deadlineMs < nowMs {
            return "checkout \(id) (\(checkout.checkout)) outlived its deadline \(checkout.deadlineMs) at \(nowMs)"
        }
        for (phase, id) in checkoutPhases where checkouts[id]?.phaseID != phase {
            return "checkout phase \(phase) maps to \(id), which is not in that phase"
        }
        for (id, read) in orderReads where read.deadlineMs < nowMs {
            return "order read \(id) outlived its deadline \(read.deadlineMs) at \(nowMs)"
        }
        for (id, exchange) in exchanges
        where exchange.startedMs + configuration.antiEntropyTimeoutMs + configuration.antiEntropyIntervalMs < nowMs {
            return "anti-entropy exchange \(id) with \(exchange.peer) outlived its timeout at \(nowMs)"
        }
        return nil
    }

    // MARK: - Shared helpers

    mutating func allocateID() -> UInt64 {
        nextID += 1
        return nextID
    }

    /// Every node in ring order from the key's partition: the first N are its replicas, the rest
    /// its fallbacks in the order they are tried.
    func walk(_ key: [UInt8]) -> [NodeID] {
        configuration.ring.preferenceList(forKey: key, n: configuration.ring.nodes.count)
    }

    /// The key's replicas: the first N nodes of its preference list, N its namespace's.
    func replicas(of key: [UInt8]) -> [NodeID] {
        configuration.ring.preferenceList(forKey: key, n: configuration.namespace(of: key).n)
    }

    mutating func suspect(_ node: NodeID, nowMs: UInt64) {
        guard node != self.node else { return }
        if suspicions.suspect(node, nowMs: nowMs) { statistics.suspicions += 1 }
    }

    /// Answers a request's origin (once).
    mutating func answer(_ id: UInt64, _ reply: ClientReply, effects: inout [NodeEffect]) {
        guard var request = requests[id], !request.answered else { return }
        request.answered = true
        requests[id] = request
        switch reply {
        case .rejected: statistics.rejected += 1
        case .unavailable: statistics.unavailable += 1
        case .storageFailed: statistics.storageFailures += 1
        default: break
        }
        deliver(reply, to: request.origin, effects: &effects)
    }

    /// Carries `reply` to `origin`: an effect, or (a checkout's step) a reply handled once the
    /// current event is done.
    mutating func deliver(_ reply: ClientReply, to origin: InFlightRequest.Origin, effects: inout [NodeEffect]) {
        switch origin {
        case let .client(client): effects.append(.reply(reply, client: client))
        case let .forwarded(from, forwardID): effects.append(.send(.forwardReply(id: forwardID, reply: reply), to: from))
        case let .checkout(phase): internalReplies.append((phase, reply))
        }
    }
}
