import CartVersioning

/// Hinted handoff: offering held hints to their owners.
extension ClusterNode {
    /// Drops hints past their age, then offers each owner not suspected up to a batch of its
    /// hints (those not already in flight). A delivery unanswered within the replica timeout is
    /// forgotten (its owner suspected); the hint stays for a later round.
    mutating func deliverHints(nowMs: UInt64, effects: inout [NodeEffect]) {
        let expired = storage.hints.dropExpired(nowMs: nowMs)
        statistics.hintsDropped += expired.dropped.count
        if expired.failure != nil { statistics.hintsUnknown += 1 }
        for id in deliveries.keys.sorted() {
            guard let delivery = deliveries[id], delivery.sentMs + configuration.replicaTimeoutMs <= nowMs else { continue }
            deliveries[id] = nil
            suspect(delivery.target, nowMs: nowMs)
        }
        let inFlight = Set(deliveries.values.map { DeliveryKey(target: $0.target, key: $0.key) })
        for target in storage.hints.targets where target != node && !isDown(target, nowMs: nowMs) {
            for key in storage.hints.keys(for: target, limit: configuration.hintDeliveryBatch)
            where !inFlight.contains(DeliveryKey(target: target, key: key)) {
                guard let hint = try? storage.hints.hint(for: target, key: key) else { continue }
                let id = allocateID()
                deliveries[id] = HintDelivery(target: target, key: key, record: hint.record, sentMs: nowMs)
                effects.append(.send(.write(id: id, key: key, record: hint.record, hintFor: nil), to: target))
            }
        }
    }

    /// The owner's answer to a delivery: acknowledged hints are deleted, unless they grew since.
    mutating func hintDelivered(_ id: UInt64, ok: Bool, from peer: NodeID, effects: inout [NodeEffect]) {
        guard let delivery = deliveries[id], delivery.target == peer else { return }
        deliveries[id] = nil
        guard ok else { return }
        do {
            if try storage.hints.remove(for: delivery.target, key: delivery.key, ifHolding: delivery.record) {
                statistics.hintsDelivered += 1
            }
        } catch {
            // The owner holds the record, but the delete's outcome is unknown: it may be on disk
            // (the hint is gone after a restart) or not (the hint is offered again). Counted
            // delivered now, and the possible second delivery as of unknown fate.
            statistics.hintsDelivered += 1
            statistics.hintsUnknown += 1
        }
    }

    /// Hints held for other nodes (the simulator's end check, status pages).
    public var hintsPending: Int { storage.hints.count }

    private struct DeliveryKey: Hashable {
        let target: NodeID
        let key: [UInt8]
    }
}
