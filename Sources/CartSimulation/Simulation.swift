import CartCluster
import CartStorage
import CartVersioning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HeapModule

/// A whole cluster in one process, driven by one seed (FoundationDB's simulation and
/// TigerBeetle's VOPR are the models): simulated time, a scheduler, a network that delays,
/// loses, duplicates, reorders and partitions messages, nodes that lose power through the
/// engine's fault-injecting file system and restart on what survived, and clients that run
/// cart and raw-key workloads against random nodes with random R and W.
///
/// Phases: **safety** (faults while the clients run), **completion** (faults healed; every
/// cart operation whose outcome is unknown is retried with its id until answered),
/// **probe** (with four or more nodes: two nodes down, every write must still succeed through
/// sloppy quorum), **drain** (every node up; every hint must be delivered), **converge**
/// (no client runs: anti-entropy alone must bring every partition's replicas to equal Merkle
/// roots within `convergenceLimitMs`) and **sweep** (a read of every key at R = N). Then the
/// checks: the replicas of each key are identical, each node's incrementally kept tree equals
/// a rescan of its store, and the replicas' state agrees with what the clients were told
/// (`History`). Continuously: each node's own invariants after every event, and no client
/// waits past its request's deadline.
///
/// Nothing outside the seed steers a run: no clock, no system randomness, no threads (engines
/// run in manual background mode, their flushes and compactions scheduled as events), and no
/// iteration over unordered collections where order matters. `report.traceHash` fingerprints
/// the run; the tests run seeds twice, in one process and in two, and compare it.
public final class Simulation {
    public let options: SimulationOptions
    private var random: SimulationRandom
    private var nowMs: UInt64 = 0
    private var queue = Heap<ScheduledAction>()
    private var sequence: UInt64 = 0
    private let nodes: [SimulatedNode]
    private let ring: Ring
    private let configurations: [NodeConfiguration]
    /// Directed links cut (from × 64 + to) → how many faults cut it.
    private var cuts: [Int: Int] = [:]
    private var clients: [Client]
    private var history = History()
    private var report: SimulationReport
    private var phase = Phase.safety
    private var nextTag: UInt64 = 0
    private var outstanding: [ClientTag: Outstanding] = [:]
    private var operationNumber = 0
    private var faultsOn = true
    private var sweepPending: [[UInt8]] = []
    private var phaseStartedMs: UInt64 = 0
    private var convergenceCheckedMs: UInt64 = 0
    /// The node whose disk was replaced after the first convergence, if any.
    private var wiped: Int?
    /// The node down in the detection phase, until it restarts.
    private var detectVictim: Int?
    private let trace: ((String) -> Void)?

    /// Longest simulated run before it is declared stuck.
    static let simulatedLimitMs: UInt64 = 600_000
    static let quorumN = 3
    /// How long anti-entropy may take to converge once every hint is delivered.
    static let convergenceLimitMs: UInt64 = 60_000
    /// How long a node may be down, in a calm cluster, before every other node's failure
    /// detector must judge it down.
    static let detectionLimitMs: UInt64 = 10_000

    enum Phase: String { case safety, completion, probe, drain, converge, sweep, settle, detect, done }

    struct Client {
        var remaining: Int
        var current: Workload.Operation?
        var unresolved: [Workload.Operation] = []
        var lastRead: [[UInt8]: StoredRecord] = [:]
        var busy = false
        var probesLeft = 0
    }

    struct Outstanding {
        let client: Int
        let raw: Int?
        let request: ClientRequest
        let deadlineMs: UInt64
        /// A read of an order whose checkout was acknowledged before the read was sent: it must
        /// find that order.
        let orderAcknowledged: Order?
        /// A second copy of a checkout sent at once through another node (the shopper's other
        /// device, or an impatient retry): its reply only goes to the history.
        var shadow = false
    }

    /// A run of `options`; `trace`, if given, receives one line per event.
    public init(options: SimulationOptions, trace: ((String) -> Void)? = nil) {
        self.options = options
        self.trace = trace
        random = SimulationRandom(seed: options.seed)
        let ids = (1...options.nodes).map { NodeID(UInt64($0)) }
        nodes = ids.map { SimulatedNode(id: $0) }
        let ring: Ring
        do { ring = try Ring(nodes: ids, partitionBits: 6, targetN: Self.quorumN) } catch {
            preconditionFailure("a ring of \(options.nodes) nodes: \(error)")
        }
        self.ring = ring
        configurations = ids.map { id in
            var configuration = NodeConfiguration(node: id, ring: ring)
            configuration.namespaces = [.carts, KeyNamespace(prefix: "kv:", policy: .siblings)]
            configuration.antiEntropyIntervalMs = 50
            configuration.antiEntropyTimeoutMs = 1_000
            configuration.gossipIntervalMs = 100
            configuration.address = "sim:\(id.value)"
            return configuration
        }
        clients = (0..<options.clients).map { _ in Client(remaining: options.operationsPerClient) }
        report = SimulationReport(options: options)
    }

    /// Runs to the end (or the first failure) and reports.
    public func run() -> SimulationReport {
        trace?("options: \(options)")
        for index in nodes.indices { restart(index) }
        schedule(.background, afterMs: 100)
        if options.faultIntervalMs > 0 { schedule(.fault, afterMs: UInt64(options.faultIntervalMs)) }
        for index in clients.indices { schedule(.clientWake(index), afterMs: UInt64(random.inRange(0...50))) }
        while report.failures.isEmpty, phase != .done, let next = queue.popMin() {
            nowMs = next.timeMs
            if nowMs > Self.simulatedLimitMs {
                fail("stuck in phase \(phase.rawValue) past \(Self.simulatedLimitMs / 1000) s simulated")
                break
            }
            execute(next.action)
            advancePhase()
        }
        if report.failures.isEmpty && phase != .done { fail("the event queue ran dry in phase \(phase.rawValue)") }
        if report.failures.isEmpty { finalChecks() }
        report.simulatedMs = nowMs
        report.acknowledged = history.acknowledged
        let totals = nodes.reduce(NodeStatistics()) { $0 + $1.statistics }
        report.hintsStored = totals.hintsStored
        report.hintsDelivered = totals.hintsDelivered
        report.readRepairs = totals.readRepairsSent
        report.sloppyWrites = totals.sloppyWrites
        report.antiEntropyKeys = totals.antiEntropyKeysSent
        return report
    }

    // MARK: - Scheduling

    private func schedule(_ action: ScheduledAction.Action, afterMs delay: UInt64) {
        sequence += 1
        queue.insert(ScheduledAction(timeMs: nowMs + delay, sequence: sequence, action: action))
    }

    private func fail(_ problem: String) {
        report.failures.append("t=\(nowMs)ms [\(phase.rawValue)] \(problem)")
    }

    private func execute(_ action: ScheduledAction.Action) {
        report.traceHash.mix(nowMs)
        switch action {
        case let .deliver(message, from, to):
            report.traceHash.mix(1 << 32 | UInt64(from) << 8 | UInt64(to))
            trace?("t=\(nowMs) n\(from + 1)→n\(to + 1) \(Self.describe(message))")
            guard nodes[to].isUp else { return }
            dispatch(to, .message(message, from: nodes[from].id))
        case let .timer(node, incarnation, timer):
            report.traceHash.mix(2 << 32 | UInt64(node))
            guard nodes[node].incarnation == incarnation, nodes[node].isUp else { return }
            trace?("t=\(nowMs) n\(node + 1) timer \(timer)")
            dispatch(node, .timer(timer))
        case let .arrive(node, request, tag):
            report.traceHash.mix(3 << 32 | UInt64(node) << 8 | tag.value << 16)
            trace?("t=\(nowMs) \(tag)→n\(node + 1) \(Self.describe(request))")
            guard nodes[node].isUp else { return schedule(.clientReply(tag, nil), afterMs: 1) }
            nodes[node].clientsWaiting.append(tag)
            dispatch(node, .client(request, client: tag))
        case let .clientReply(tag, reply):
            report.traceHash.mix(4 << 32 | tag.value)
            report.traceHash.mix(reply.map { "\($0)" } ?? "lost")
            trace?("t=\(nowMs) →\(tag) \(reply.map { "\($0)" } ?? "connection lost")")
            clientReplied(tag, reply)
        case let .clientWake(index):
            report.traceHash.mix(5 << 32 | UInt64(index))
            clientWake(index)
        case let .clientDeadline(tag):
            guard let waiting = outstanding[tag] else { return }
            fail("request \(tag) of client \(waiting.client) (\(Self.describe(waiting.request))) got no reply by its deadline")
        case .fault:
            report.traceHash.mix(6 << 32)
            guard faultsOn else { return }
            injectFault()
            let interval = options.faultIntervalMs
            schedule(.fault, afterMs: UInt64(random.inRange(interval / 2...interval * 3 / 2)))
        case let .restart(node):
            report.traceHash.mix(7 << 32 | UInt64(node))
            if faultsOn { restart(node) }
        case let .crashAndRestart(node):
            report.traceHash.mix(8 << 32 | UInt64(node))
            guard faultsOn, nodes[node].isUp else { return }
            crash(node)
            schedule(.restart(node: node), afterMs: UInt64(random.inRange(100...1_500)))
        case let .cut(from, to):
            report.traceHash.mix(9 << 32 | UInt64(from) << 8 | UInt64(to))
            guard faultsOn else { return }
            trace?("t=\(nowMs) cut n\(from + 1)→n\(to + 1)")
            cuts[from * 64 + to, default: 0] += 1
        case let .restore(from, to):
            report.traceHash.mix(10 << 32 | UInt64(from) << 8 | UInt64(to))
            trace?("t=\(nowMs) restore n\(from + 1)→n\(to + 1)")
            let link = from * 64 + to
            if let count = cuts[link] { cuts[link] = count > 1 ? count - 1 : nil }
        case .background:
            for node in nodes where node.isUp { node.backgroundStep() }
            schedule(.background, afterMs: 100)
        }
    }

    // MARK: - Nodes

    private func dispatch(_ index: Int, _ event: NodeEvent) {
        guard nodes[index].isUp else { return }
        let effects = nodes[index].protocolNode!.handle(event, nowMs: nowMs)
        report.invariantChecks += 1
        if let problem = nodes[index].protocolNode!.checkInvariants(nowMs: nowMs) { fail("n\(index + 1): \(problem)") }
        for effect in effects { perform(effect, from: index) }
    }

    private func perform(_ effect: NodeEffect, from index: Int) {
        switch effect {
        case let .send(message, to):
            let target = Int(to.value) - 1
            report.messages += 1
            if cuts[index * 64 + target] != nil || random.chance(options.lossRate * (faultsOn ? 1 : 0)) {
                report.messagesDropped += 1
                return
            }
            schedule(.deliver(message, from: index, to: target), afterMs: delay())
            if faultsOn, random.chance(options.duplicateRate) {
                schedule(.deliver(message, from: index, to: target), afterMs: delay())
            }
        case let .setTimer(timer, atMs):
            schedule(.timer(node: index, incarnation: nodes[index].incarnation, timer), afterMs: atMs > nowMs ? atMs - nowMs : 0)
        case let .reply(reply, tag):
            nodes[index].clientsWaiting.removeAll { $0 == tag }
            schedule(.clientReply(tag, reply), afterMs: UInt64(random.inRange(1...3)))
        }
    }

    private func delay() -> UInt64 {
        var ms = random.inRange(options.delayMs)
        if faultsOn, random.chance(options.spikeRate) { ms += random.inRange(0...options.spikeMs) }
        return UInt64(ms)
    }

    private func crash(_ index: Int) {
        trace?("t=\(nowMs) crash n\(index + 1) (hints held \(nodes[index].protocolNode?.hintsPending ?? 0), "
               + "disk faults fired: \(nodes[index].disk.injections.map(\.description)))")
        nodes[index].crash(seed: random.next())
        for tag in nodes[index].clientsWaiting { schedule(.clientReply(tag, nil), afterMs: 1) }
        nodes[index].clientsWaiting = []
    }

    private func restart(_ index: Int) {
        guard !nodes[index].isUp else { return }
        trace?("t=\(nowMs) start n\(index + 1)")
        switch nodes[index].start(configuration: configurations[index], nowMs: nowMs) {
        case let .success(effects):
            trace?("t=\(nowMs) n\(index + 1) up (hints held \(nodes[index].protocolNode!.hintsPending))")
            for effect in effects { perform(effect, from: index) }
        case let .failure(error):
            fail("n\(index + 1) does not reopen after a power loss: \(error)")
        }
    }

    private var upNodes: [Int] { nodes.indices.filter { nodes[$0].isUp } }

    private func injectFault() {
        var kinds: [String] = []
        if options.crashes { kinds += ["crash", "crash"] }
        if options.partitions { kinds += ["partition", "one-way", "swizzle"] }
        if options.diskFaults { kinds += ["disk"] }
        guard !kinds.isEmpty else { return }
        report.faults += 1
        let up = upNodes
        switch random.pick(kinds) {
        case "crash":
            guard up.count > 1 else { return }
            let index = random.pick(up)
            crash(index)
            schedule(.restart(node: index), afterMs: UInt64(random.inRange(300...4_000)))
        case "disk":
            guard let index = up.isEmpty ? nil : random.pick(up), !nodes[index].diskFaulty else { return }
            let operation: FaultInjectingFileSystem.Operation = random.chance(0.5) ? .sync : .write
            let effects: [FaultInjectingFileSystem.Fault.Effect] = operation == .write ? [.none, .applied, .partial] : [.none, .applied]
            let fault = FaultInjectingFileSystem.Fault(operation, skip: random.inRange(0...30), times: 1,
                                                       errno: random.chance(0.5) ? EIO : ENOSPC, effect: random.pick(effects))
            trace?("t=\(nowMs) disk fault n\(index + 1): \(fault)")
            nodes[index].disk.inject(fault)
            nodes[index].diskFaulty = true
            schedule(.crashAndRestart(node: index), afterMs: UInt64(random.inRange(200...2_000)))
        case "partition":
            let side = Set(nodes.indices.filter { _ in random.chance(0.5) })
            guard !side.isEmpty, side.count < nodes.count else { return }
            let span = UInt64(random.inRange(500...4_000))
            for from in nodes.indices { for to in nodes.indices where side.contains(from) != side.contains(to) {
                schedule(.cut(from: from, to: to), afterMs: 0)
                schedule(.restore(from: from, to: to), afterMs: span)
            } }
        case "one-way":
            for _ in 0..<random.inRange(1...3) {
                let from = random.below(nodes.count), to = random.below(nodes.count)
                guard from != to else { continue }
                schedule(.cut(from: from, to: to), afterMs: 0)
                schedule(.restore(from: from, to: to), afterMs: UInt64(random.inRange(500...4_000)))
            }
        default: // swizzle: cut the links of some nodes one by one, restore them in random order
            let chosen = nodes.indices.filter { _ in random.chance(0.4) }
            var links: [(Int, Int)] = []
            for from in chosen { for to in nodes.indices where to != from { links += [(from, to), (to, from)] } }
            var at: UInt64 = 0
            for (from, to) in links {
                at += UInt64(random.inRange(20...150))
                schedule(.cut(from: from, to: to), afterMs: at)
            }
            var order = links
            for i in order.indices.reversed() { order.swapAt(i, random.below(i + 1)) }
            for (from, to) in order {
                at += UInt64(random.inRange(20...150))
                schedule(.restore(from: from, to: to), afterMs: at)
            }
        }
    }

    // MARK: - Clients

    private func clientWake(_ index: Int) {
        guard !clients[index].busy else { return }
        if clients[index].current == nil {
            switch phase {
            case .safety:
                guard clients[index].remaining > 0 else { return }
                clients[index].remaining -= 1
                operationNumber += 1
                clients[index].current = Workload.next(client: index, number: operationNumber, lastRead: clients[index].lastRead,
                                                       random: &random, quorumN: Self.quorumN)
            case .completion:
                guard !clients[index].unresolved.isEmpty else { return }
                clients[index].current = clients[index].unresolved.removeFirst()
                clients[index].current!.attempts = 0
            case .probe:
                guard clients[index].probesLeft > 0 else { return }
                clients[index].probesLeft -= 1
                operationNumber += 1
                let add = CartOperation.add(sku: random.pick(Workload.countingSKUs), quantity: 1, details: CartItemDetails(name: "item"))
                clients[index].current = Workload.Operation(
                    number: operationNumber,
                    request: ClientRequest(key: Workload.countingCart, operation: .cart(add, id: OperationID("op-\(operationNumber)"),
                                                                                       observed: nil), r: 2, w: 2))
            default:
                return
            }
        }
        guard let operation = clients[index].current else { return }
        let candidates = phase == .safety ? Array(nodes.indices) : upNodes
        send(operation.request, client: index, to: random.pick(candidates))
    }

    private func send(_ request: ClientRequest, client: Int, to node: Int) {
        clients[client].busy = true
        clients[client].current?.attempts += 1
        report.requests += 1
        nextTag += 1
        let tag = ClientTag(nextTag)
        let raw = history.attempted(request)
        let deadline = nowMs + (request.timeoutMs ?? configurations[node].requestTimeoutMs) + 20
        var acknowledgedOrder: Order?
        if case let .readOrder(id) = request.operation, history.acknowledgedCheckouts.contains(id) {
            acknowledgedOrder = history.orders[id]
        }
        outstanding[tag] = Outstanding(client: client, raw: raw, request: request, deadlineMs: deadline,
                                       orderAcknowledged: acknowledgedOrder)
        schedule(.arrive(node: node, request, tag), afterMs: UInt64(random.inRange(1...3)))
        schedule(.clientDeadline(tag), afterMs: deadline - nowMs)
        if case .checkout = request.operation, nodes.count > 1, random.chance(0.5) {
            var other = random.below(nodes.count - 1)
            if other >= node { other += 1 }
            guard phase == .safety || nodes[other].isUp else { return }
            report.requests += 1
            nextTag += 1
            let shadowTag = ClientTag(nextTag)
            var copy = outstanding[tag]!
            copy.shadow = true
            outstanding[shadowTag] = copy
            schedule(.arrive(node: other, request, shadowTag), afterMs: UInt64(random.inRange(1...3)))
            schedule(.clientDeadline(shadowTag), afterMs: deadline - nowMs)
        }
    }

    private func clientReplied(_ tag: ClientTag, _ reply: ClientReply?) {
        guard let waiting = outstanding.removeValue(forKey: tag) else { return }
        if waiting.shadow {
            if let reply { history.replied(waiting.request, raw: waiting.raw, reply: reply) }
            return
        }
        let index = waiting.client
        clients[index].busy = false
        guard var operation = clients[index].current else { return }
        var settled = false
        if let reply {
            history.replied(waiting.request, raw: waiting.raw, reply: reply)
            if let order = waiting.orderAcknowledged, case .notFound = reply {
                fail("checkout \(order.checkoutID) was acknowledged, but a later read of its order found none")
            }
            switch reply {
            case let .found(record): clients[index].lastRead[waiting.request.key] = record; settled = true
            case .notFound: clients[index].lastRead[waiting.request.key] = nil; settled = true
            case let .written(record, _, _, _): clients[index].lastRead[waiting.request.key] = record; settled = true
            case .rejected, .checkedOut, .order: settled = true
            case .unavailable, .storageFailed: break
            }
        }
        if phase == .probe, !settled || { if case .written? = reply { return false } else { return true } }() {
            fail("availability: with \(nodes.count - upNodes.count) of \(nodes.count) nodes down and no network faults, "
                 + "\(Self.describe(waiting.request)) answered \(reply.map { "\($0)" } ?? "connection lost")")
        }
        if settled {
            clients[index].current = nil
        } else {
            operation = clients[index].current!
            let isCart: Bool = {
                switch operation.request.operation {
                case .cart, .checkout: return true
                default: return false
                }
            }()
            if phase == .safety && operation.attempts >= 3 {
                if isCart { clients[index].unresolved.append(operation) }
                clients[index].current = nil
            } else if phase != .safety && operation.attempts >= 40 {
                fail("liveness: \(Self.describe(operation.request)) still fails after 40 attempts without faults: "
                     + "\(reply.map { "\($0)" } ?? "connection lost")")
            }
        }
        let think = phase == .safety ? random.inRange(10...200) : random.inRange(50...150)
        schedule(.clientWake(index), afterMs: UInt64(think))
    }

    private var clientsIdle: Bool { clients.allSatisfy { !$0.busy && $0.current == nil } }

    // MARK: - Phases

    private func advancePhase() {
        switch phase {
        case .safety:
            guard clientsIdle, clients.allSatisfy({ $0.remaining == 0 }) else { return }
            // Heal everything; from now on the network is reliable.
            faultsOn = false
            cuts = [:]
            // A node whose disk failed refuses writes until its engine is reopened: restart it.
            for index in nodes.indices where nodes[index].diskFaulty { crash(index) }
            for index in nodes.indices where !nodes[index].isUp { restart(index) }
            enter(.completion)
            for index in clients.indices { schedule(.clientWake(index), afterMs: 50) }
        case .completion:
            guard clientsIdle, clients.allSatisfy({ $0.unresolved.isEmpty }) else { return }
            guard nodes.count >= 4 else { return enter(.drain) }
            var victims: [Int] = []
            while victims.count < 2 {
                let index = random.below(nodes.count)
                if !victims.contains(index) { victims.append(index) }
            }
            for index in victims { crash(index) }
            enter(.probe)
            for index in clients.indices {
                clients[index].probesLeft = 2
                schedule(.clientWake(index), afterMs: UInt64(random.inRange(1...50)))
            }
        case .probe:
            guard clientsIdle, clients.allSatisfy({ $0.probesLeft == 0 }) else { return }
            for index in nodes.indices where !nodes[index].isUp { restart(index) }
            enter(.drain)
        case .drain:
            // Writes still replacing silent replicas may hint after the probe: wait for them too.
            guard nodes.allSatisfy({ ($0.protocolNode?.hintsPending ?? 1) == 0 && ($0.protocolNode?.requestsInFlight ?? 1) == 0 }) else {
                if nowMs > phaseStartedMs + 60_000 {
                    let pending = nodes.map { "n\($0.id.value):\($0.protocolNode?.hintsPending ?? -1)" }.joined(separator: " ")
                    fail("hints not delivered 60 s after every node is up: \(pending)")
                }
                return
            }
            enter(.converge)
        case .converge:
            guard nowMs >= convergenceCheckedMs + 100 else { return }
            convergenceCheckedMs = nowMs
            let differing = partitionsApart()
            guard differing.isEmpty else {
                if nowMs > phaseStartedMs + Self.convergenceLimitMs {
                    fail("anti-entropy: \(Self.convergenceLimitMs / 1000) s after every hint was delivered, the replicas of "
                         + "\(differing.count) partitions still differ (first: \(differing.prefix(5).joined(separator: "; ")))")
                }
                return
            }
            if let wiped {
                report.refillMs = nowMs - phaseStartedMs
                trace?("t=\(nowMs) n\(wiped + 1) refilled by anti-entropy")
            } else {
                report.convergenceMs = nowMs - phaseStartedMs
                if options.wipe {
                    // Every key is now on all its replicas: one node loses its disk, restarts
                    // empty, and anti-entropy alone must refill it.
                    let index = random.below(nodes.count)
                    wiped = index
                    crash(index)
                    nodes[index].wipe()
                    trace?("t=\(nowMs) n\(index + 1) disk replaced: restarts empty")
                    restart(index)
                    return enter(.converge)
                }
            }
            enter(.sweep)
            sweepPending = Self.keys(clients: clients.count)
        case .sweep:
            guard outstanding.isEmpty else { return }
            guard let key = sweepPending.first else {
                enter(.settle)
                return
            }
            sweepPending.removeFirst()
            clients[0].current = Workload.Operation(number: 0, request: ClientRequest(key: key, operation: .get, r: Self.quorumN))
            send(clients[0].current!.request, client: 0, to: random.pick(upNodes))
        case .settle:
            // Let the sweep's read repairs land.
            guard nowMs > phaseStartedMs + 2_000 else { return }
            // Failure detection: one node goes down in a calm cluster.
            let victim = random.below(nodes.count)
            detectVictim = victim
            crash(victim)
            enter(.detect)
        case .detect:
            guard let victim = detectVictim else {
                // The victim is back: let gossip spread its new life before the final checks.
                if nowMs > phaseStartedMs + Self.detectionLimitMs + 2_000 { enter(.done) }
                return
            }
            guard nowMs > phaseStartedMs + Self.detectionLimitMs else { return }
            checkDetection(victim: victim)
            detectVictim = nil
            restart(victim)
        case .done:
            return
        }
    }

    private func enter(_ next: Phase) {
        trace?("t=\(nowMs) phase \(next.rawValue)")
        phase = next
        phaseStartedMs = nowMs
    }

    static func keys(clients: Int) -> [[UInt8]] {
        [Workload.countingCart] + (0..<(clients + 1) / 2).flatMap {
            [Workload.pairCart($0), Workload.pairKey($0), Workload.checkoutCart($0)]
        }
    }

    // MARK: - Final checks

    /// The partitions whose replicas' Merkle roots are not all equal and built, described.
    private func partitionsApart() -> [String] {
        var apart: [String] = []
        for partition in 0..<ring.partitionCount {
            let replicas = ring.preferenceList(forPartition: partition, n: Self.quorumN)
            let roots = replicas.map { nodes[Int($0.value) - 1].protocolNode?.storage.replicas.treeRoot(partition: partition) }
            if roots.contains(where: { $0 == nil }) || Set(roots).count > 1 {
                apart.append("p\(partition): " + zip(replicas, roots).map { "\($0)=\($1.map { String($0, radix: 16) } ?? "unbuilt")" }
                    .joined(separator: ","))
            }
        }
        return apart
    }

    private func finalChecks() {
        var finals: [[UInt8]: StoredRecord] = [:]
        for key in Self.keys(clients: clients.count) {
            let name = String(decoding: key, as: UTF8.self)
            var records: [StoredRecord?] = []
            for replica in ring.preferenceList(forKey: key, n: Self.quorumN) {
                let node = nodes[Int(replica.value) - 1]
                do { records.append(try node.protocolNode!.storage.replicas.read(key)) } catch {
                    fail("\(name): replica \(replica) unreadable: \(error)")
                }
            }
            report.invariantChecks += 1
            if Set(records).count > 1 { fail("\(name): replicas differ after every node is up, hints delivered and a read at R=N") }
            var joined: StoredRecord?
            for record in records.compactMap({ $0 }) { joined = joined.map { $0.merging(record) ?? $0 } ?? record }
            if let joined { finals[key] = joined }
        }
        for problem in history.check(finals, decided: decidedOrders()) { fail(problem) }
        report.invariantChecks += history.cartOperations.count + history.rawWrites.count
        let totals = nodes.reduce(NodeStatistics()) { $0 + $1.statistics }
        let settled = totals.hintsDelivered + totals.hintsDropped
        // Every hint stored is delivered or dropped; a hint of unknown fate (a store, or a
        // delete after delivery, that failed after it may have reached the disk) may be
        // counted once more.
        if settled < totals.hintsStored || settled > totals.hintsStored + totals.hintsUnknown {
            fail("hints: \(totals.hintsStored) stored (\(totals.hintsUnknown) of unknown fate), \(totals.hintsDelivered) delivered, "
                 + "\(totals.hintsDropped) dropped")
        }
        if !outstanding.isEmpty { fail("\(outstanding.count) client requests never answered") }
        for partition in partitionsApart().prefix(3) { fail("anti-entropy: roots differ at the end: \(partition)") }
        for node in nodes {
            report.invariantChecks += 1
            do {
                if let problem = try node.protocolNode?.storage.replicas.verifyTree() {
                    fail("n\(node.id.value): anti-entropy tree differs from its store: \(problem)")
                }
            } catch {
                fail("n\(node.id.value): store unreadable while checking its tree: \(error)")
            }
        }
        checkMembership()
        for node in nodes where (node.protocolNode?.hintsPending ?? 0) > 0 {
            fail("n\(node.id.value) still holds \(node.protocolNode!.hintsPending) hints at the end")
        }
    }

    /// Failure detection, complete and accurate in a calm cluster: every live node judges the
    /// victim down and every other live node up.
    private func checkDetection(victim: Int) {
        for index in upNodes {
            report.invariantChecks += 1
            for member in nodes[index].protocolNode!.members(nowMs: nowMs) {
                let shouldBeUp = member.record.node != nodes[victim].id
                if member.up != shouldBeUp {
                    fail("failure detector: n\(index + 1) judges \(member.record.node) \(member.up ? "up" : "down") "
                         + "\(Self.detectionLimitMs / 1000) s after n\(victim + 1) went down (phi "
                         + "\(member.phi.map { String(format: "%.1f", $0) } ?? "-"))")
                }
            }
        }
    }

    /// Gossip converged: every node's view holds every member's current life (generation) and
    /// status, and its failure detector judges every member up.
    private func checkMembership() {
        var truth: [NodeID: [UInt64]] = [:]
        for node in nodes {
            guard let own = node.protocolNode?.membership[node.id] else { continue }
            truth[node.id] = [own.generation, UInt64(own.status.rawValue)]
        }
        for node in nodes {
            report.invariantChecks += 1
            guard let protocolNode = node.protocolNode else { continue }
            if protocolNode.membership.shape != truth {
                let differing = truth.keys.sorted().filter { protocolNode.membership.shape[$0] != truth[$0] }
                fail("gossip: n\(node.id.value)'s view differs from the members' own records at "
                     + differing.map { "\($0)" }.joined(separator: ","))
            }
            for member in protocolNode.members(nowMs: nowMs) where !member.up {
                fail("gossip: n\(node.id.value)'s failure detector judges \(member.record.node) down (phi "
                     + "\(member.phi.map { String(format: "%.1f", $0) } ?? "-")) with every node up and no faults")
            }
        }
    }

    /// Every order committed at any acceptor, by id; fails the run if two acceptors committed
    /// different orders for one id, or if an acknowledged checkout's order is missing from one
    /// of its acceptors (but the one whose disk was replaced: its acceptor state is gone, and
    /// the next attempt with the id restores it).
    private func decidedOrders() -> [CheckoutID: Order] {
        var decided: [CheckoutID: Order] = [:]
        var held: [CheckoutID: Set<NodeID>] = [:]
        for node in nodes {
            let states: [(CheckoutID, CheckoutAcceptor)]
            do { states = try node.protocolNode!.storage.checkouts.all() } catch {
                fail("n\(node.id.value): checkout states unreadable: \(error)")
                continue
            }
            for (id, state) in states {
                report.invariantChecks += 1
                if let problem = state.checkInvariants() { fail("n\(node.id.value): checkout \(id): \(problem)") }
                guard let order = state.committed else { continue }
                held[id, default: []].insert(node.id)
                if let other = decided[id], other != order {
                    fail("checkout \(id): two orders decided (created \(other.createdMs) by \(other.coordinator), and "
                         + "\(order.createdMs) by \(order.coordinator) at n\(node.id.value))")
                }
                decided[id] = decided[id] ?? order
            }
        }
        for id in history.acknowledgedCheckouts.sorted() {
            report.invariantChecks += 1
            for acceptor in ring.preferenceList(forKey: id.orderKey, n: Self.quorumN)
            where wiped != Int(acceptor.value) - 1 && !(held[id]?.contains(acceptor) ?? false) {
                fail("checkout \(id) was acknowledged, but acceptor \(acceptor) holds no decided order")
            }
            if decided[id] != history.orders[id] { fail("checkout \(id): the decided order is not the one acknowledged") }
        }
        report.checkouts = history.acknowledgedCheckouts.count
        report.ordersDecided = decided.count
        return decided
    }

    // MARK: - Trace text

    static func describe(_ request: ClientRequest) -> String {
        let key = String(decoding: request.key, as: UTF8.self)
        switch request.operation {
        case .get: return "get \(key) r=\(request.r.map(String.init) ?? "-")"
        case let .put(value, _): return "put \(key)=\(String(decoding: value, as: UTF8.self)) w=\(request.w.map(String.init) ?? "-")"
        case .delete: return "delete \(key)"
        case let .cart(operation, id, _): return "\(id) \(key) \(operation)"
        case let .checkout(id): return "checkout \(id) \(key)"
        case let .readOrder(id): return "read order \(id)"
        }
    }

    static func describe(_ message: ClusterMessage) -> String {
        switch message {
        case let .read(id, key): return "read #\(id) \(String(decoding: key, as: UTF8.self))"
        case let .readReply(id, record, ok): return "readReply #\(id) \(ok ? (record == nil ? "none" : "record") : "failed")"
        case let .write(id, key, _, hint): return "write #\(id) \(String(decoding: key, as: UTF8.self))\(hint.map { " hint for \($0)" } ?? "")"
        case let .writeReply(id, ok): return "writeReply #\(id) \(ok ? "ok" : "failed")"
        case let .forward(id, request): return "forward #\(id) \(describe(request))"
        case let .forwardAccepted(id): return "forwardAccepted #\(id)"
        case let .forwardReply(id, reply): return "forwardReply #\(id) \(reply)"
        case let .repair(key, _): return "repair \(String(decoding: key, as: UTF8.self))"
        case let .treeHashes(id, partition, level, indices, _): return "treeHashes #\(id) p\(partition) level \(level) \(indices.count) nodes"
        case let .treeHashesReply(id, ready, differing): return "treeHashesReply #\(id) \(ready ? "\(differing.count) differ" : "not ready")"
        case let .treeKeys(id, partition, leaves, digests): return "treeKeys #\(id) p\(partition) \(leaves.count) leaves \(digests.count) keys"
        case let .treeKeysReply(id, wanted): return "treeKeysReply #\(id) wants \(wanted.count)"
        case let .checkoutPrepare(id, checkout, ballot): return "checkoutPrepare #\(id) \(checkout) ballot \(ballot)"
        case let .checkoutAccept(id, ballot, order): return "checkoutAccept #\(id) \(order.checkoutID) ballot \(ballot)"
        case let .checkoutVote(id, vote): return "checkoutVote #\(id) \(vote)"
        case let .checkoutCommit(id, order): return "checkoutCommit #\(id) \(order.checkoutID)"
        case let .checkoutCommitted(id, ok): return "checkoutCommitted #\(id) \(ok ? "ok" : "failed")"
        case let .orderRead(id, checkout): return "orderRead #\(id) \(checkout)"
        case let .gossip(records): return "gossip \(records.count) members"
        case let .gossipReply(records): return "gossipReply \(records.count) members"
        case let .orderReadReply(id, ok, order): return "orderReadReply #\(id) \(ok ? (order == nil ? "none" : "decided") : "failed")"
        }
    }
}
