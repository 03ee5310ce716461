import CartVersioning

/// Client intake: validation, forwarding, and GET coordination.
extension ClusterNode {
    /// A request from a client or forwarded by a peer.
    mutating func accept(_ request: ClientRequest, origin: InFlightRequest.Origin, nowMs: UInt64,
                         effects: inout [NodeEffect]) {
        switch request.operation {
        case let .checkout(checkout): return startCheckout(checkout, request: request, origin: origin, nowMs: nowMs, effects: &effects)
        case let .readOrder(checkout): return startOrderRead(checkout, request: request, origin: origin, nowMs: nowMs, effects: &effects)
        case .get, .put, .delete, .cart: break
        }
        let id = allocateID()
        let namespace = configuration.namespace(of: request.key)
        let timeoutMs = request.timeoutMs ?? configuration.requestTimeoutMs
        let defaults = (r: min(configuration.defaultR, namespace.n), w: min(configuration.defaultW, namespace.n))
        let parameters: QuorumParameters
        do throws(QuorumParameters.Invalid) {
            parameters = try QuorumParameters(n: namespace.n, r: request.r ?? defaults.r, w: request.w ?? defaults.w)
            if let rejection = Self.validate(request, namespace: namespace, timeoutMs: timeoutMs,
                                             timeoutMaxMs: configuration.requestTimeoutMaxMs) {
                return reject(rejection, origin: origin, effects: &effects)
            }
        } catch {
            return reject(.invalidQuorum(error), origin: origin, effects: &effects)
        }
        let primaries = configuration.ring.preferenceList(forKey: request.key, n: namespace.n)
        requests[id] = InFlightRequest(origin: origin, request: request, namespace: namespace, parameters: parameters,
                                       primaries: primaries, deadlineMs: nowMs + timeoutMs, stage: .forwarding(to: node, tried: [], accepted: true))
        effects.append(.setTimer(.deadline(id), atMs: requests[id]!.deadlineMs))
        guard request.isMutation else {
            statistics.coordinatedReads += 1
            return startRead(id, nowMs: nowMs, effects: &effects)
        }
        if case let .forwarded(from, forwardID) = origin {
            effects.append(.send(.forwardAccepted(id: forwardID), to: from))
        }
        if primaries.contains(node) {
            statistics.coordinatedWrites += 1
            return startMutation(id, nowMs: nowMs, effects: &effects)
        }
        if case .forwarded = origin {
            // Every node holds the same ring, so a forward reaches a replica; one that does not
            // (a ring mismatch) is answered rather than forwarded again.
            answer(id, .unavailable(.unreachable(needed: parameters.w, answered: 0, failed: primaries.count,
                                                 replicas: primaries.count)), effects: &effects)
            requests[id] = nil
            return
        }
        statistics.forwarded += 1
        forward(id, tried: [], nowMs: nowMs, effects: &effects)
    }

    /// Forwards a mutation to the first replica not yet tried and not suspected (the first not
    /// tried if all are suspected); answers `unavailable` when every replica was tried.
    mutating func forward(_ id: UInt64, tried: [NodeID], nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        let untried = request.primaries.filter { !tried.contains($0) }
        guard let coordinator = untried.first(where: { !isDown($0, nowMs: nowMs) }) ?? untried.first,
              nowMs < request.deadlineMs else {
            answer(id, .unavailable(.unreachable(needed: 1, answered: 0, failed: tried.count, replicas: request.primaries.count)),
                   effects: &effects)
            requests[id] = nil
            return
        }
        request.stage = .forwarding(to: coordinator, tried: tried, accepted: false)
        request.round += 1
        requests[id] = request
        var forwarded = request.request
        forwarded.timeoutMs = request.deadlineMs - nowMs
        effects.append(.send(.forward(id: id, request: forwarded), to: coordinator))
        scheduleReplicaTimeout(id, nowMs: nowMs, effects: &effects)
    }

    /// The coordinator took a forwarded request.
    mutating func forwardAccepted(_ id: UInt64, from peer: NodeID) {
        guard let request = requests[id], case let .forwarding(to, tried, _) = request.stage, to == peer else { return }
        requests[id]!.stage = .forwarding(to: to, tried: tried, accepted: true)
    }

    /// Why `request` is refused before anything happens, or nil.
    static func validate(_ request: ClientRequest, namespace: KeyNamespace, timeoutMs: UInt64,
                         timeoutMaxMs: UInt64) -> RequestRejection? {
        guard (1...ReplicaStore.keyBytesMax).contains(request.key.count) else {
            return .invalidKey(bytes: request.key.count, max: ReplicaStore.keyBytesMax)
        }
        guard (1...timeoutMaxMs).contains(timeoutMs) else { return .invalidTimeout(ms: timeoutMs, maxMs: timeoutMaxMs) }
        switch request.operation {
        case .get: return nil
        case .put, .delete: return namespace.policy == .cart ? .wrongKind(policy: .cart) : nil
        case .cart, .checkout: return namespace.policy == .cart ? nil : .wrongKind(policy: namespace.policy)
        case .readOrder: return nil
        }
    }

    /// Answers a request refused at intake (it never enters the table).
    mutating func reject(_ rejection: RequestRejection, origin: InFlightRequest.Origin, effects: inout [NodeEffect]) {
        statistics.rejected += 1
        deliver(.rejected(rejection), to: origin, effects: &effects)
    }

    /// The coordinator's reply to a forwarded request.
    mutating func forwardReplied(_ id: UInt64, reply: ClientReply, from peer: NodeID, effects: inout [NodeEffect]) {
        guard let request = requests[id], case let .forwarding(to, _, _) = request.stage, to == peer else { return }
        answer(id, reply, effects: &effects)
        requests[id] = nil
    }

    // MARK: - GET

    private mutating func startRead(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        var quorum = ReadQuorum(replicas: request.primaries, r: request.parameters.r)
        request.stage = .reading(quorum)
        requests[id] = request
        if let reply = quorum.start() { return readProgressed(id, quorum, reply: reply, nowMs: nowMs, effects: &effects) }
        for replica in request.primaries where replica != node {
            effects.append(.send(.read(id: id, key: request.request.key), to: replica))
        }
        scheduleReplicaTimeout(id, nowMs: nowMs, effects: &effects)
        if request.primaries.contains(node) {
            let reply: ReadQuorum.Reply?
            do { reply = quorum.received(try storage.replicas.read(request.request.key), from: node) } catch {
                reply = quorum.failed(node)
            }
            readProgressed(id, quorum, reply: reply, nowMs: nowMs, effects: &effects)
        }
    }

    /// A replica's answer to a GET or to a mutation's gathering.
    mutating func readReplied(_ id: UInt64, record: StoredRecord?, ok: Bool, from peer: NodeID, nowMs: UInt64,
                              effects: inout [NodeEffect]) {
        guard let request = requests[id] else { return }
        switch request.stage {
        case var .reading(quorum):
            let reply = ok ? quorum.received(record, from: peer) : quorum.failed(peer)
            readProgressed(id, quorum, reply: reply, nowMs: nowMs, effects: &effects)
        case var .preparing(quorum):
            _ = ok ? quorum.received(record, from: peer) : quorum.failed(peer)
            preparationProgressed(id, quorum, nowMs: nowMs, effects: &effects)
        case .forwarding, .writing:
            return
        }
    }

    /// Stores the read's new state, answers the client if due, and repairs once it is done.
    mutating func readProgressed(_ id: UInt64, _ quorum: ReadQuorum, reply: ReadQuorum.Reply?, nowMs: UInt64,
                                 effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        request.stage = .reading(quorum)
        requests[id] = request
        switch reply {
        case let .found(record)?: answer(id, .found(record), effects: &effects)
        case .notFound?: answer(id, .notFound, effects: &effects)
        case let .failed(error)?: answer(id, .unavailable(error), effects: &effects)
        case nil: break
        }
        if quorum.phase == .done { finishRead(id, nowMs: nowMs, effects: &effects) }
    }

    /// Read repair: the replicas that answered stale, nothing, or not at all get the join,
    /// within the rate limit. Then the read is forgotten.
    mutating func finishRead(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let request = requests.removeValue(forKey: id), case let .reading(quorum) = request.stage,
              let merged = quorum.merged else { return }
        for target in quorum.repairTargets {
            if target == node {
                _ = try? storage.replicas.merge(request.request.key, merged)
                continue
            }
            guard repairBudget.take(nowMs: nowMs) else {
                statistics.readRepairsSkipped += 1
                continue
            }
            statistics.readRepairsSent += 1
            effects.append(.send(.repair(key: request.request.key, record: merged), to: target))
        }
    }

    func scheduleReplicaTimeout(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let request = requests[id] else { return }
        let at = min(nowMs + configuration.replicaTimeoutMs, request.deadlineMs)
        effects.append(.setTimer(.replicaTimeout(id, round: request.round), atMs: at))
    }
}
