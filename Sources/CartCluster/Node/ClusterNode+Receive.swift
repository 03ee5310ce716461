import CartVersioning

/// Messages from peers, and timers.
extension ClusterNode {
    mutating func receive(_ message: ClusterMessage, from peer: NodeID, nowMs: UInt64, effects: inout [NodeEffect]) {
        switch message {
        case let .read(id, key):
            do {
                let record = try storage.replicas.read(key)
                effects.append(.send(.readReply(id: id, record: record, ok: true), to: peer))
            } catch {
                effects.append(.send(.readReply(id: id, record: nil, ok: false), to: peer))
            }
        case let .readReply(id, record, ok):
            readReplied(id, record: record, ok: ok, from: peer, nowMs: nowMs, effects: &effects)
        case let .write(id, key, record, hintFor):
            let ok = storeWrite(record, key: key, hintFor: hintFor, nowMs: nowMs)
            effects.append(.send(.writeReply(id: id, ok: ok), to: peer))
        case let .writeReply(id, ok):
            writeReplied(id, ok: ok, from: peer, nowMs: nowMs, effects: &effects)
        case let .forward(id, request):
            accept(request, origin: .forwarded(from: peer, id: id), nowMs: nowMs, effects: &effects)
        case let .forwardAccepted(id):
            forwardAccepted(id, from: peer)
        case let .forwardReply(id, reply):
            forwardReplied(id, reply: reply, from: peer, effects: &effects)
        case let .repair(key, record):
            statistics.repairsReceived += 1
            _ = try? storage.replicas.merge(key, record)
        case let .treeHashes(id, partition, level, indices, hashes):
            compareTreeHashes(id, partition: partition, level: level, indices: indices, hashes: hashes, from: peer, effects: &effects)
        case let .treeHashesReply(id, ready, differing):
            treeHashesReplied(id, ready: ready, differing: differing, from: peer, nowMs: nowMs, effects: &effects)
        case let .treeKeys(id, partition, leaves, digests):
            compareTreeKeys(id, partition: partition, leaves: leaves, digests: digests, from: peer, effects: &effects)
        case let .treeKeysReply(id, wanted):
            treeKeysReplied(id, wanted: wanted, from: peer, effects: &effects)
        case .checkoutPrepare, .checkoutAccept, .checkoutCommit, .orderRead:
            effects.append(.send(acceptorAnswer(message), to: peer))
        case let .checkoutVote(id, vote):
            checkoutVoted(phase: id, vote, from: peer, nowMs: nowMs, effects: &effects)
        case let .checkoutCommitted(id, ok):
            checkoutCommitted(phase: id, ok: ok, from: peer, nowMs: nowMs, effects: &effects)
        case let .gossip(records):
            gossipReceived(records, from: peer, nowMs: nowMs, effects: &effects)
        case let .gossipReply(records):
            merge(records, nowMs: nowMs)
        case let .orderReadReply(id, ok, order):
            orderReadReplied(id, ok: ok, order: order, from: peer, effects: &effects)
        }
    }

    /// A replica's write, or a fallback's hint: true once durable.
    mutating func storeWrite(_ record: StoredRecord, key: [UInt8], hintFor: NodeID?, nowMs: UInt64) -> Bool {
        guard let owner = hintFor, owner != node else {
            do { try storage.replicas.merge(key, record) } catch { return false }
            return true
        }
        do {
            switch try storage.hints.store(record, key: key, for: owner, nowMs: nowMs) {
            case let .stored(new):
                if new { statistics.hintsStored += 1 }
                return true
            case .refused:
                statistics.hintsRefused += 1
                return false
            }
        } catch {
            // The put may have reached the disk: a hint of unknown fate, counted apart.
            statistics.hintsUnknown += 1
            return false
        }
    }

    mutating func fire(_ timer: NodeTimer, nowMs: UInt64, effects: inout [NodeEffect]) {
        switch timer {
        case let .deadline(id):
            if requests[id] != nil { deadlinePassed(id, nowMs: nowMs, effects: &effects) }
            if checkouts[id] != nil { checkoutDeadlinePassed(id, effects: &effects) }
            if orderReads[id] != nil { orderReadTimedOut(id, effects: &effects) }
        case let .replicaTimeout(id, round):
            if checkouts[id]?.round == round { checkoutPhaseTimedOut(id, nowMs: nowMs, effects: &effects) }
            if orderReads[id] != nil { orderReadTimedOut(id, effects: &effects) }
            guard let request = requests[id], request.round == round else { return }
            replicaTimeoutPassed(id, request, nowMs: nowMs, effects: &effects)
        case .gossip:
            gossip(nowMs: nowMs, effects: &effects)
            effects.append(.setTimer(.gossip, atMs: nowMs + configuration.gossipIntervalMs))
        case let .checkoutRetry(id):
            checkoutBackoffPassed(id, nowMs: nowMs, effects: &effects)
        case .hintDelivery:
            deliverHints(nowMs: nowMs, effects: &effects)
            effects.append(.setTimer(.hintDelivery, atMs: nowMs + configuration.hintDeliveryIntervalMs))
        case .antiEntropy:
            startExchange(nowMs: nowMs, effects: &effects)
            effects.append(.setTimer(.antiEntropy, atMs: nowMs + configuration.antiEntropyIntervalMs))
        case .treeRebuild:
            let rebuilding = rebuildTree()
            let interval = rebuilding ? configuration.treeRebuildIntervalMs : configuration.treeRecheckIntervalMs
            effects.append(.setTimer(.treeRebuild, atMs: nowMs + interval))
        }
    }

    private mutating func deadlinePassed(_ id: UInt64, nowMs: UInt64, effects: inout [NodeEffect]) {
        guard let request = requests[id] else { return }
        switch request.stage {
        case let .forwarding(to, _, _):
            suspect(to, nowMs: nowMs)
            answer(id, .unavailable(.timedOut(needed: 1, answered: 0, replicas: 1)), effects: &effects)
            requests[id] = nil
        case var .reading(quorum):
            let reply = quorum.timedOut()
            readProgressed(id, quorum, reply: reply, nowMs: nowMs, effects: &effects)
            finishRead(id, nowMs: nowMs, effects: &effects)
        case var .preparing(quorum):
            // Still gathering at the deadline: nothing was applied.
            var error = QuorumError.timedOut(needed: request.parameters.r, answered: 0, replicas: request.primaries.count)
            if case let .failed(failure)? = quorum.timedOut() { error = failure }
            answer(id, .unavailable(error), effects: &effects)
            requests[id] = nil
        case var .writing(quorum):
            if let reply = quorum.timedOut(), case let .failed(error) = reply { answer(id, .unavailable(error), effects: &effects) }
            requests[id] = nil
        }
    }

    private mutating func replicaTimeoutPassed(_ id: UInt64, _ request: InFlightRequest, nowMs: UInt64,
                                               effects: inout [NodeEffect]) {
        switch request.stage {
        case let .forwarding(to, tried, accepted):
            // A coordinator that took the request has until the deadline; one that did not
            // say so in time is suspected, and the next replica is tried.
            guard !accepted else { return }
            suspect(to, nowMs: nowMs)
            forward(id, tried: tried + [to], nowMs: nowMs, effects: &effects)
        case var .reading(quorum):
            var reply: ReadQuorum.Reply?
            for replica in quorum.replicas where quorum.isPending(replica) {
                suspect(replica, nowMs: nowMs)
                if let outcome = quorum.failed(replica) { reply = outcome }
            }
            quorum.finish()
            readProgressed(id, quorum, reply: reply, nowMs: nowMs, effects: &effects)
            if requests[id] != nil, quorum.phase == .done { finishRead(id, nowMs: nowMs, effects: &effects) }
        case var .preparing(quorum):
            for replica in quorum.replicas where quorum.isPending(replica) { suspect(replica, nowMs: nowMs) }
            quorum.finish()
            apply(id, gathered: quorum.merged, nowMs: nowMs, effects: &effects)
        case let .writing(quorum):
            let silent = quorum.outstanding
            for target in silent { suspect(target, nowMs: nowMs) }
            replace(silent, in: id, quorum: quorum, nowMs: nowMs, effects: &effects)
        }
    }
}
