import CartVersioning

/// Mutations at their coordinator: gather, apply on the join, replicate with sloppy quorum.
extension ClusterNode {
    /// Asks the other replicas for their records; applies once R answered (this replica counts
    /// as one), or all were heard from, or at the replica timeout with whatever arrived.
    mutating func startMutation(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        let others = request.primaries.filter { $0 != node }
        let quorum = ReadQuorum(replicas: others, r: max(0, request.parameters.r - 1))
        request.stage = .preparing(quorum)
        requests[id] = request
        for replica in others where !isDown(replica, nowMs: nowMs) {
            effects.append(.send(.read(id: id, key: request.request.key), to: replica))
        }
        let asked = others.filter { !isDown($0, nowMs: nowMs) }
        if request.parameters.r <= 1 || asked.isEmpty {
            return apply(id, gathered: nil, nowMs: nowMs, effects: &effects)
        }
        scheduleReplicaTimeout(id, nowMs: nowMs, effects: &effects)
    }

    /// Applies when the gathering is over.
    mutating func preparationProgressed(_ id: UInt64, _ quorum: ReadQuorum, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        request.stage = .preparing(quorum)
        requests[id] = request
        guard quorum.phase != .collecting || quorum.replicas.isEmpty else { return }
        // R answered; but if the client's context names events neither this replica nor the
        // answers have seen (the client read other replicas), wait for the rest (until the
        // replica timeout) rather than refuse the operation as based on an unseen state.
        let stillAsking = quorum.replicas.contains { quorum.isPending($0) && !isDown($0, nowMs: nowMs) }
        if stillAsking, !covers(request.request.operation, key: request.request.key, gathered: quorum.merged) { return }
        apply(id, gathered: quorum.merged, nowMs: nowMs, effects: &effects)
    }

    /// True if this replica's record joined with `gathered` covers the context the operation
    /// was sent with (none: true).
    private func covers(_ operation: ClientRequest.Operation, key: [UInt8], gathered: StoredRecord?) -> Bool {
        var held = (try? storage.replicas.read(key)) ?? nil
        if let gathered { held = held.map { $0.merging(gathered, limits: configuration.limits) ?? $0 } ?? gathered }
        switch (operation, held) {
        case (.get, _), (.put(_, nil), _), (.delete(nil), _), (.cart(_, _, nil), _), (.checkout, _), (.readOrder, _): return true
        case let (.put(_, context?), .siblings(set)?), let (.delete(context?), .siblings(set)?): return set.context.dominates(context)
        case let (.cart(_, _, observed?), .cart(cart)?): return cart.context.covers(observed)
        case let (.put(_, context?), _), let (.delete(context?), _): return context.isEmpty
        case let (.cart(_, _, observed?), _): return observed.isEmpty
        }
    }

    /// Applies the operation at this replica on the join of its record and `gathered`, then
    /// replicates the result.
    mutating func apply(_ id: UInt64, gathered: StoredRecord?, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        let key = request.request.key
        let replica = storage.replicaID
        let limits = configuration.limits
        let policy = request.namespace.policy
        var applied: (dot: Dot, duplicate: Bool)?
        let outcome: Result<StoredRecord, RequestRejection>
        do {
            outcome = try storage.replicas.update(key) { current -> Result<StoredRecord, RequestRejection> in
                var base = current
                if let gathered {
                    guard let joined = base.map({ $0.merging(gathered, limits: limits) }) ?? gathered else {
                        return .failure(.wrongKind(policy: policy))
                    }
                    base = joined
                }
                switch (request.request.operation, base) {
                case let (.cart(operation, operationID, observed), nil), let (.cart(operation, operationID, observed), .cart?):
                    var cart: CartState
                    if case let .cart(state)? = base { cart = state } else { cart = CartState() }
                    var issued: UInt64 = 0
                    if case let .cart(own)? = current { issued = own.context.highestCounter(of: replica) }
                    do throws(CartOperationError) {
                        switch try cart.apply(operation, id: operationID, at: replica, issuedCounter: issued, nowMs: nowMs,
                                              observed: observed, limits: limits) {
                        case let .applied(dot): applied = (dot, false)
                        case let .duplicate(dot): applied = (dot, true)
                        }
                    } catch { return .failure(.cart(error)) }
                    return .success(.cart(cart))
                case let (.put(_, context), nil), let (.put(_, context), .siblings?),
                     let (.delete(context), nil), let (.delete(context), .siblings?):
                    var set: SiblingSet
                    if case let .siblings(held)? = base { set = held } else { set = SiblingSet() }
                    var issued: UInt64 = 0
                    if case let .siblings(own)? = current { issued = own.context[replica] }
                    let sibling: Sibling
                    if case let .put(value, _) = request.request.operation {
                        sibling = Sibling(value: value, timestampMs: nowMs)
                    } else {
                        sibling = .deletion(timestampMs: nowMs)
                    }
                    do throws(SiblingWriteError) {
                        let written = policy == .lastWriteWins
                            ? try set.writeLastWriteWins(sibling, context: context ?? VersionVector(), at: replica,
                                                         issuedCounter: issued, limits: limits)
                            : try set.write(sibling, context: context ?? VersionVector(), at: replica,
                                            issuedCounter: issued, limits: limits)
                        applied = (written.dot, false)
                    } catch { return .failure(.siblings(error)) }
                    return .success(.siblings(set))
                default:
                    return .failure(.wrongKind(policy: policy))
                }
            }
        } catch {
            if case .kindMismatch = error { outcome = .failure(.wrongKind(policy: policy)) } else {
                answer(id, .storageFailed("\(error)"), effects: &effects)
                requests[id] = nil
                return
            }
        }
        let record: StoredRecord
        switch outcome {
        case let .failure(rejection):
            answer(id, .rejected(rejection), effects: &effects)
            requests[id] = nil
            return
        case let .success(stored):
            record = stored
        }
        guard let applied else { preconditionFailure("an applied mutation has a dot") }
        // Replicate: this replica's ack is in; every other replica, or a fallback for a
        // suspected one (the replica itself if no fallback is free of suspicion).
        var quorum = WriteQuorum(targets: [node], w: request.parameters.w)
        request.written = InFlightRequest.Written(record: record, dot: applied.dot, duplicate: applied.duplicate)
        request.round += 1
        request.stage = .writing(quorum)
        var sends: [(NodeID, NodeID?)] = []
        for primary in request.primaries where primary != node {
            var target = primary
            if isDown(primary, nowMs: nowMs) {
                target = nextTarget(standingInFor: primary, in: request, nowMs: nowMs) ?? primary
            }
            quorum.addTarget(target)
            request.stage = .writing(quorum)
            if target == primary {
                sends.append((primary, nil))
            } else {
                request.standsInFor[target] = primary
                sends.append((target, primary))
                statistics.sloppyWrites += 1
            }
        }
        var reply = quorum.start()
        if reply == nil { reply = quorum.acked(from: node) } else { _ = quorum.acked(from: node) }
        request.stage = .writing(quorum)
        requests[id] = request
        for (target, hint) in sends {
            effects.append(.send(.write(id: id, key: key, record: record, hintFor: hint), to: target))
        }
        writeProgressed(id, quorum, reply: reply, effects: &effects)
        if requests[id] != nil { scheduleReplicaTimeout(id, nowMs: nowMs, effects: &effects) }
    }

    /// Where to send the write meant for `intended` (a replica): the replica itself if it was
    /// skipped for a suspicion that may be stale, else the next node of the key's walk beyond
    /// its replicas not yet written to; preferring nodes not suspected (better a suspected
    /// target than none); nil if none is left.
    func nextTarget(standingInFor intended: NodeID, in request: InFlightRequest, nowMs: UInt64) -> NodeID? {
        let used: Set<NodeID>
        if case let .writing(quorum) = request.stage { used = Set(quorum.targets) } else { used = [] }
        let candidates = ([intended] + walk(request.request.key).dropFirst(request.primaries.count)).filter { candidate in
            candidate != node && !used.contains(candidate) && request.standsInFor[candidate] == nil
        }
        return candidates.first { !isDown($0, nowMs: nowMs) } ?? candidates.first
    }

    /// A write target's ack or refusal.
    mutating func writeReplied(_ id: UInt64, ok: Bool, from peer: NodeID, nowMs: UInt64, effects: inout [NodeEffect]) {
        if deliveries[id] != nil { return hintDelivered(id, ok: ok, from: peer, effects: &effects) }
        guard let request = requests[id], case var .writing(quorum) = request.stage, quorum.targets.contains(peer) else { return }
        if ok {
            let reply = quorum.acked(from: peer)
            writeProgressed(id, quorum, reply: reply, effects: &effects)
        } else {
            replace([peer], in: id, quorum: quorum, nowMs: nowMs, effects: &effects)
        }
    }

    /// Sends the write to a fallback for each of `silent` (a replica, or a fallback that failed
    /// in its turn), then counts them as failed.
    mutating func replace(_ silent: [NodeID], in id: UInt64, quorum: WriteQuorum, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var request = requests[id], let record = request.written?.record else { return }
        var quorum = quorum
        request.stage = .writing(quorum)
        var sent = false
        for target in silent {
            let intended = request.standsInFor[target] ?? target
            guard let next = nextTarget(standingInFor: intended, in: request, nowMs: nowMs) else {
                // No node is left to stand in (a cluster of about N nodes): this coordinator
                // keeps the hint itself, so that the write reaches the replica once it is back.
                // It does not count toward W: this node's own copy already did.
                if intended != node { _ = storeWrite(record, key: request.request.key, hintFor: intended, nowMs: nowMs) }
                continue
            }
            quorum.addTarget(next)
            request.stage = .writing(quorum)
            sent = true
            if next == intended {
                effects.append(.send(.write(id: id, key: request.request.key, record: record, hintFor: nil), to: next))
                continue
            }
            let fallback = next
            request.standsInFor[fallback] = intended
            statistics.sloppyWrites += 1
            effects.append(.send(.write(id: id, key: request.request.key, record: record, hintFor: intended), to: fallback))
        }
        var reply: WriteQuorum.Reply?
        for target in silent {
            if let outcome = quorum.failed(target) { reply = outcome }
        }
        requests[id] = request
        writeProgressed(id, quorum, reply: reply, effects: &effects)
        if sent, requests[id] != nil {
            requests[id]!.round += 1
            scheduleReplicaTimeout(id, nowMs: nowMs, effects: &effects)
        }
    }

    /// Stores the write's new state and answers the client if due; forgets the write once
    /// every target was heard from.
    mutating func writeProgressed(_ id: UInt64, _ quorum: WriteQuorum, reply: WriteQuorum.Reply?, effects: inout [NodeEffect]) {
        guard var request = requests[id] else { return }
        request.stage = .writing(quorum)
        requests[id] = request
        switch reply {
        case let .succeeded(acks)?:
            guard let written = request.written else { break }
            answer(id, .written(record: written.record, dot: written.dot, duplicate: written.duplicate, acks: acks),
                   effects: &effects)
        case let .failed(error)?:
            answer(id, .unavailable(error), effects: &effects)
        case nil:
            break
        }
        if quorum.phase == .done { requests[id] = nil }
    }
}
