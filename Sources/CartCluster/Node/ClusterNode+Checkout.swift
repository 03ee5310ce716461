import CartVersioning

/// Checkout: strongly consistent and idempotent, as single-decree Paxos per checkout id
/// (Cassandra's lightweight transactions), with the N replicas of the id's order key as the
/// acceptors and every phase needing all N of them.
///
/// A checkout with id `c` of cart `k`, coordinated by whichever node the client reached:
/// 1. **Prepare** ballot `b` (above every round seen) at every acceptor of `c`. Each promises
///    durably and reports the value it accepted before, or refuses (a higher promise), or
///    reports the decided order.
/// 2. If an acceptor reported a decided order, go to 5 with it. If one reported an accepted
///    value, propose the highest-ballot one (an earlier attempt's order). Otherwise read `k`
///    from all N of its replicas (R = N) and build the order from what is visible (an empty
///    cart is refused, with nothing accepted anywhere).
/// 3. **Accept** `(b, order)` at every acceptor; each accepts durably unless it promised higher.
/// 4. A refusal in 1 or 3 waits a backoff (longer with each attempt, different per node) and
///    starts again at 1 with a higher ballot, within the deadline.
/// 5. **Commit** the order at every acceptor (the decision, durable), then **clear** the
///    ordered units from the cart: a cart `clear` with operation id `checkout:c`, observing the
///    order's context (so it removes what was ordered, not what was added since), R = W = N.
/// 6. Answer the order.
///
/// Why it is safe: an order is chosen once every acceptor accepted it under one ballot; any
/// later prepare that succeeds got a promise from every acceptor, so it sees that value and
/// proposes it again, never another (the quorums, all N, intersect). A client's answer comes
/// after the decision is durable on all N acceptors, so every later read of the order and every
/// retry finds it. An attempt that fails before commit left at most an accepted value, which no
/// read shows and which the next attempt completes; one that fails after commit is completed by
/// a retry (commit and the idempotent clear again). A replica that is down makes every phase
/// wait out the replica timeout, then the checkout is refused as unavailable; one the failure
/// detector already judges down refuses it at once.
extension ClusterNode {
    /// Most phase-1 attempts of one checkout before it answers `checkoutContended`.
    static let checkoutAttemptsMax = 8

    // MARK: - Intake

    mutating func startCheckout(_ checkout: CheckoutID, request: ClientRequest, origin: InFlightRequest.Origin,
                                nowMs: UInt64, effects: inout [NodeEffect]) {
        let namespace = configuration.namespace(of: request.key)
        let timeoutMs = request.timeoutMs ?? configuration.requestTimeoutMs
        if let rejection = Self.validate(request, namespace: namespace, timeoutMs: timeoutMs,
                                         timeoutMaxMs: configuration.requestTimeoutMaxMs) {
            return reject(rejection, origin: origin, effects: &effects)
        }
        statistics.checkouts += 1
        let acceptors = replicas(of: checkout.orderKey)
        // Every phase needs every acceptor and the cart's every replica: with one of them judged
        // down by the failure detector, refuse at once, before anything is sent (Cassandra's
        // UnavailableException). A replica-timeout suspicion alone does not refuse: it is one
        // request's evidence, and the attempt finds out within a replica timeout anyway.
        let needed = Set(acceptors + replicas(of: request.key))
        let down = needed.filter { $0 != node && detector.isDown($0, nowMs: nowMs) }
        guard down.isEmpty else {
            statistics.checkoutsFailed += 1
            return deliver(.unavailable(.unreachable(needed: needed.count, answered: 0, failed: down.count, replicas: needed.count)),
                           to: origin, effects: &effects)
        }
        let id = allocateID()
        checkouts[id] = CheckoutProposal(origin: origin, checkout: checkout, cartKey: request.key, acceptors: acceptors,
                                         cartN: namespace.n, deadlineMs: nowMs + timeoutMs)
        effects.append(.setTimer(.deadline(id), atMs: nowMs + timeoutMs))
        prepare(id, nowMs: nowMs, effects: &effects)
    }

    mutating func startOrderRead(_ checkout: CheckoutID, request: ClientRequest, origin: InFlightRequest.Origin,
                                 nowMs: UInt64, effects: inout [NodeEffect]) {
        let timeoutMs = request.timeoutMs ?? configuration.requestTimeoutMs
        guard (1...configuration.requestTimeoutMaxMs).contains(timeoutMs) else {
            return reject(.invalidTimeout(ms: timeoutMs, maxMs: configuration.requestTimeoutMaxMs), origin: origin, effects: &effects)
        }
        let acceptors = replicas(of: checkout.orderKey)
        let id = allocateID()
        orderReads[id] = OrderRead(origin: origin, acceptors: acceptors, deadlineMs: nowMs + timeoutMs)
        effects.append(.setTimer(.deadline(id), atMs: nowMs + timeoutMs))
        effects.append(.setTimer(.replicaTimeout(id, round: 0), atMs: nowMs + min(configuration.replicaTimeoutMs, timeoutMs)))
        for acceptor in acceptors where acceptor != node {
            effects.append(.send(.orderRead(id: id, checkout: checkout), to: acceptor))
        }
        if acceptors.contains(node) {
            let local = acceptorAnswer(.orderRead(id: id, checkout: checkout))
            if case let .orderReadReply(_, ok, order) = local {
                orderReadReplied(id, ok: ok, order: order, from: node, effects: &effects)
            }
        }
    }

    // MARK: - Acceptor

    /// This node's answer, as an acceptor, to a proposer's or reader's message (durable before
    /// it is returned). Only for `checkoutPrepare`, `checkoutAccept`, `checkoutCommit` and
    /// `orderRead`.
    func acceptorAnswer(_ message: ClusterMessage) -> ClusterMessage {
        let store = storage.checkouts
        switch message {
        case let .checkoutPrepare(id, checkout, ballot):
            let vote = (try? store.update(checkout) { $0.prepare(ballot) }) ?? .failed
            return .checkoutVote(id: id, vote: vote)
        case let .checkoutAccept(id, ballot, order):
            let vote = (try? store.update(order.checkoutID) { $0.accept(order, ballot: ballot) }) ?? .failed
            return .checkoutVote(id: id, vote: vote)
        case let .checkoutCommit(id, order):
            let ok = (try? store.update(order.checkoutID) { $0.commit(order) }) ?? false
            return .checkoutCommitted(id: id, ok: ok)
        case let .orderRead(id, checkout):
            guard let state = try? store.state(checkout) else { return .orderReadReply(id: id, ok: false, order: nil) }
            return .orderReadReply(id: id, ok: true, order: state.committed)
        default:
            preconditionFailure("acceptorAnswer called with \(message)")
        }
    }

    // MARK: - Proposer phases

    /// Moves checkout `id` to a new phase: a fresh phase id (votes and replies of the old one
    /// are ignored from now on) and a fresh replica-timeout round.
    private mutating func enterPhase(_ id: UInt64, _ stage: CheckoutProposal.Stage) -> CheckoutProposal {
        let phase = allocateID()
        var proposal = checkouts[id]!
        checkoutPhases[proposal.phaseID] = nil
        proposal.phaseID = phase
        proposal.round += 1
        proposal.stage = stage
        checkouts[id] = proposal
        checkoutPhases[phase] = id
        return proposal
    }

    /// Sends `message` (built for the phase id) to every acceptor but this node, sets the phase's
    /// replica timeout, and answers it here as an acceptor too.
    private mutating func broadcast(_ id: UInt64, _ proposal: CheckoutProposal, nowMs: UInt64, effects: inout [NodeEffect],
                                    _ message: (UInt64) -> ClusterMessage) {
        let outgoing = message(proposal.phaseID)
        for acceptor in proposal.acceptors where acceptor != node {
            effects.append(.send(outgoing, to: acceptor))
        }
        effects.append(.setTimer(.replicaTimeout(id, round: proposal.round),
                                 atMs: min(nowMs + configuration.replicaTimeoutMs, proposal.deadlineMs)))
        guard proposal.acceptors.contains(node) else { return }
        switch acceptorAnswer(outgoing) {
        case let .checkoutVote(phase, vote): checkoutVoted(phase: phase, vote, from: node, nowMs: nowMs, effects: &effects)
        case let .checkoutCommitted(phase, ok): checkoutCommitted(phase: phase, ok: ok, from: node, nowMs: nowMs, effects: &effects)
        default: break
        }
    }

    /// Phase 1 with a ballot above every round seen.
    private mutating func prepare(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var proposal = checkouts[id] else { return }
        proposal.attempts += 1
        // Above every round this proposal saw and every round this node used: two proposals on
        // one node never share a ballot.
        proposal.highestRound = max(proposal.highestRound, lastBallotRound) + 1
        lastBallotRound = proposal.highestRound
        proposal.ballot = Ballot(round: proposal.highestRound, node: node)
        checkouts[id] = proposal
        let ballot = proposal.ballot
        let checkout = proposal.checkout
        proposal = enterPhase(id, .preparing(promises: [:]))
        broadcast(id, proposal, nowMs: nowMs, effects: &effects) { .checkoutPrepare(id: $0, checkout: checkout, ballot: ballot) }
    }

    private mutating func propose(_ id: UInt64, _ order: Order, replayed: Bool, nowMs: UInt64, effects: inout [NodeEffect]) {
        let proposal = enterPhase(id, .accepting(order, accepted: [], replayed: replayed))
        let ballot = proposal.ballot
        broadcast(id, proposal, nowMs: nowMs, effects: &effects) { .checkoutAccept(id: $0, ballot: ballot, order: order) }
    }

    private mutating func commit(_ id: UInt64, _ order: Order, replayed: Bool, nowMs: UInt64, effects: inout [NodeEffect]) {
        let proposal = enterPhase(id, .committing(order, stored: [], replayed: replayed))
        broadcast(id, proposal, nowMs: nowMs, effects: &effects) { .checkoutCommit(id: $0, order: order) }
    }

    /// Runs a client request as a step of checkout `id` (its reply comes back through
    /// `checkoutStepAnswered`).
    private mutating func step(_ id: UInt64, _ stage: CheckoutProposal.Stage, _ request: ClientRequest, nowMs: UInt64,
                               effects: inout [NodeEffect]) {
        let proposal = enterPhase(id, stage)
        // A driver may run an event stamped after the deadline before the deadline's timer.
        guard proposal.deadlineMs > nowMs else {
            return finish(id, .unavailable(.timedOut(needed: proposal.cartN, answered: 0, replicas: proposal.cartN)), effects: &effects)
        }
        var request = request
        request.timeoutMs = proposal.deadlineMs - nowMs
        accept(request, origin: .checkout(phase: proposal.phaseID), nowMs: nowMs, effects: &effects)
    }

    /// Answers checkout `id` and forgets it.
    private mutating func finish(_ id: UInt64, _ reply: ClientReply, effects: inout [NodeEffect]) {
        guard let proposal = checkouts.removeValue(forKey: id) else { return }
        checkoutPhases[proposal.phaseID] = nil
        switch reply {
        case let .checkedOut(_, replayed):
            statistics.checkoutsCompleted += 1
            if replayed { statistics.checkoutsReplayed += 1 }
        default:
            statistics.checkoutsFailed += 1
        }
        deliver(reply, to: proposal.origin, effects: &effects)
    }

    /// A refusal: wait, then prepare again, unless attempts or time ran out.
    private mutating func backOff(_ id: UInt64, refusedBy promised: Ballot, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard var proposal = checkouts[id] else { return }
        proposal.highestRound = max(proposal.highestRound, promised.round)
        checkouts[id] = proposal
        guard proposal.highestRound < .max else { return finish(id, .rejected(.checkoutContended), effects: &effects) }
        let jitter = (node.value &* 7 &+ UInt64(proposal.attempts) &* 13) % 17
        let wakeMs = nowMs + (5 << UInt64(min(proposal.attempts, 6))) + jitter
        guard proposal.attempts < Self.checkoutAttemptsMax, wakeMs < proposal.deadlineMs else {
            return finish(id, .rejected(.checkoutContended), effects: &effects)
        }
        statistics.checkoutRetries += 1
        _ = enterPhase(id, .backingOff)
        effects.append(.setTimer(.checkoutRetry(id), atMs: wakeMs))
    }

    mutating func checkoutBackoffPassed(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let proposal = checkouts[id], case .backingOff = proposal.stage else { return }
        prepare(id, nowMs: nowMs, effects: &effects)
    }

    // MARK: - Replies

    /// An acceptor's vote in phase 1 or 2.
    mutating func checkoutVoted(phase: UInt64, _ vote: CheckoutVote, from peer: NodeID, nowMs: UInt64,
                                effects: inout [NodeEffect]) {
        guard let id = checkoutPhases[phase], let proposal = checkouts[id], proposal.acceptors.contains(peer) else { return }
        switch (proposal.stage, vote) {
        case let (.preparing, .decided(order)), let (.accepting, .decided(order)):
            commit(id, order, replayed: order != proposal.built, nowMs: nowMs, effects: &effects)
        case (.preparing(let promises), .refused(let promised)) where promised == proposal.ballot && promises.keys.contains(peer):
            // A duplicated prepare: the acceptor promised this very ballot to its first copy.
            return
        case let (.preparing, .refused(promised)), let (.accepting, .refused(promised)):
            backOff(id, refusedBy: promised, nowMs: nowMs, effects: &effects)
        case (.preparing, .failed), (.accepting, .failed):
            finish(id, .unavailable(.unreachable(needed: proposal.acceptors.count, answered: 0, failed: 1,
                                                 replicas: proposal.acceptors.count)), effects: &effects)
        case (.preparing(var promises), let .granted(accepted)):
            promises[peer] = accepted
            checkouts[id]!.stage = .preparing(promises: promises)
            guard promises.count == proposal.acceptors.count else { return }
            let highest = promises.values.compactMap { $0 }.max { $0.ballot < $1.ballot }
            if let highest { return propose(id, highest.order, replayed: highest.order != proposal.built, nowMs: nowMs, effects: &effects) }
            if proposal.cartSeenEmpty { return finish(id, .rejected(.emptyCart), effects: &effects) }
            let read = ClientRequest(key: proposal.cartKey, operation: .get, r: proposal.cartN)
            step(id, .readingCart, read, nowMs: nowMs, effects: &effects)
        case (.accepting(let order, var accepted, let replayed), .granted):
            accepted.insert(peer)
            checkouts[id]!.stage = .accepting(order, accepted: accepted, replayed: replayed)
            guard accepted.count == proposal.acceptors.count else { return }
            commit(id, order, replayed: replayed, nowMs: nowMs, effects: &effects)
        default:
            return
        }
    }

    /// An acceptor stored the decision (or could not).
    mutating func checkoutCommitted(phase: UInt64, ok: Bool, from peer: NodeID, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let id = checkoutPhases[phase], let proposal = checkouts[id], proposal.acceptors.contains(peer),
              case .committing(let order, var stored, let replayed) = proposal.stage else { return }
        guard ok else {
            return finish(id, .storageFailed("acceptor \(peer) did not store the decision of checkout \(proposal.checkout)"),
                          effects: &effects)
        }
        stored.insert(peer)
        checkouts[id]!.stage = .committing(order, stored: stored, replayed: replayed)
        guard stored.count == proposal.acceptors.count else { return }
        let clear = ClientRequest(key: order.cartKey,
                                  operation: .cart(.clear, id: proposal.checkout.clearOperationID, observed: order.context),
                                  r: proposal.cartN, w: proposal.cartN)
        step(id, .clearing(order, replayed: replayed), clear, nowMs: nowMs, effects: &effects)
    }

    /// The reply to a checkout's cart read or cart clear.
    mutating func checkoutStepAnswered(phase: UInt64, _ reply: ClientReply, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let id = checkoutPhases[phase], let proposal = checkouts[id] else { return }
        switch (proposal.stage, reply) {
        case let (.readingCart, .found(.cart(state))) where !state.view.items.isEmpty:
            let view = state.view
            let order = Order(checkoutID: proposal.checkout, cartKey: proposal.cartKey, items: view.items,
                              context: view.context, createdMs: nowMs, coordinator: node)
            checkouts[id]!.built = order
            propose(id, order, replayed: false, nowMs: nowMs, effects: &effects)
        case (.readingCart, .found(.cart)), (.readingCart, .notFound):
            // Empty: unless a concurrent attempt with this id decided (and cleared the cart),
            // which phase 1 again would report, there is nothing to check out.
            checkouts[id]!.cartSeenEmpty = true
            prepare(id, nowMs: nowMs, effects: &effects)
        case (.readingCart, .found(.siblings)):
            finish(id, .rejected(.wrongKind(policy: .cart)), effects: &effects)
        case let (.clearing(order, replayed), .written),
             let (.clearing(order, replayed), .rejected(.cart(.staleContext))) where replayed:
            // A replayed order whose clear finds the cart's items changed past what the order
            // observed: the cart moved on long ago (the clear's id was forgotten), the order stands.
            let answer: ClientReply = order.cartKey == proposal.cartKey
                ? .checkedOut(order, replayed: replayed) : .rejected(.checkoutIDInUse(proposal.checkout))
            finish(id, answer, effects: &effects)
        case (.clearing, .unavailable), (.clearing, .storageFailed):
            finish(id, reply, effects: &effects)
        case (.clearing, _):
            // The order is decided: never a client error now. A clear refused (its coordinator
            // applied on a join that did not cover the order's context, a burst of changes) is
            // worth retrying with the same key, which clears again.
            finish(id, .unavailable(.unreachable(needed: proposal.cartN, answered: 0, failed: proposal.cartN,
                                                 replicas: proposal.cartN)), effects: &effects)
        case (.readingCart, _):
            // Refused, unavailable or failed: the step's own answer says why.
            finish(id, reply, effects: &effects)
        default:
            return
        }
    }

    /// A phase's acceptors had their time: the silent ones are suspected and the checkout ends
    /// as unavailable (nothing is decided by a phase that did not hear from all of them).
    mutating func checkoutPhaseTimedOut(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let proposal = checkouts[id] else { return }
        let heard: Set<NodeID>
        switch proposal.stage {
        case let .preparing(promises): heard = Set(promises.keys)
        case let .accepting(_, accepted, _): heard = accepted
        case let .committing(_, stored, _): heard = stored
        case .readingCart, .clearing, .backingOff: return
        }
        for acceptor in proposal.acceptors where !heard.contains(acceptor) { suspect(acceptor, nowMs: nowMs) }
        finish(id, .unavailable(.timedOut(needed: proposal.acceptors.count, answered: heard.count,
                                          replicas: proposal.acceptors.count)), effects: &effects)
    }

    mutating func checkoutDeadlinePassed(_ id: UInt64, effects: inout [NodeEffect]) {
        guard let proposal = checkouts[id] else { return }
        finish(id, .unavailable(.timedOut(needed: proposal.acceptors.count, answered: 0, replicas: proposal.acceptors.count)),
               effects: &effects)
    }

    // MARK: - Order reads

    mutating func orderReadReplied(_ id: UInt64, ok: Bool, order: Order?, from peer: NodeID, effects: inout [NodeEffect]) {
        guard var read = orderReads[id], read.acceptors.contains(peer),
              !read.answered.contains(peer), !read.failed.contains(peer) else { return }
        if ok { read.answered.insert(peer) } else { read.failed.insert(peer) }
        if let order, read.found == nil {
            read.found = order
            deliver(.order(order), to: read.origin, effects: &effects)
        } else if ok, order == nil {
            read.lacking.insert(peer)
        }
        orderReads[id] = read
        if read.answered.count + read.failed.count == read.acceptors.count { orderReadTimedOut(id, effects: &effects) }
    }

    /// Every acceptor answered, or the time is up: the answer if none was given yet (not found
    /// if any acceptor answered), then the decision to those that lacked it.
    mutating func orderReadTimedOut(_ id: UInt64, effects: inout [NodeEffect]) {
        guard let read = orderReads.removeValue(forKey: id) else { return }
        guard let order = read.found else {
            // Not found only if every acceptor said so: one that lost its disk says so too.
            let reply: ClientReply = read.lacking.count == read.acceptors.count
                ? .notFound
                : .unavailable(.unreachable(needed: read.acceptors.count, answered: read.lacking.count,
                                            failed: read.acceptors.count - read.lacking.count, replicas: read.acceptors.count))
            return deliver(reply, to: read.origin, effects: &effects)
        }
        for acceptor in read.acceptors where read.lacking.contains(acceptor) {
            statistics.orderRepairs += 1
            if acceptor == node {
                _ = acceptorAnswer(.checkoutCommit(id: id, order: order))
            } else {
                // The acknowledgment comes under the read's id, which no checkout phase has: ignored.
                effects.append(.send(.checkoutCommit(id: id, order: order), to: acceptor))
            }
        }
    }
}
