import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// The quorum state machines: exactly one client reply, at the right moment, whatever the order
/// of answers, failures, duplicates, strays and timeouts; read repair targets exactly the
/// replicas behind the merged record.
@Suite struct QuorumTests {
    func nodes(_ count: Int) -> [NodeID] { (1...count).map { NodeID(UInt64($0)) } }

    func cart(_ sku: String, at node: UInt64) throws -> StoredRecord {
        var cart = CartState()
        try cart.apply(.add(sku: sku, quantity: 1, details: CartItemDetails(name: sku)), id: OperationID("\(sku)-\(node)"),
                       at: ReplicaID(node: node, epoch: 1), issuedCounter: 0, nowMs: 1_000)
        return .cart(cart)
    }

    @Test func parametersAreValidated() throws {
        #expect(QuorumParameters.default == (try QuorumParameters(n: 3, r: 2, w: 2)))
        _ = try QuorumParameters(n: 3, r: 3, w: 3)
        #expect(throws: QuorumParameters.Invalid.n(0)) { try QuorumParameters(n: 0, r: 1, w: 1) }
        #expect(throws: QuorumParameters.Invalid.n(17)) { try QuorumParameters(n: 17, r: 1, w: 1) }
        #expect(throws: QuorumParameters.Invalid.r(4, n: 3)) { try QuorumParameters(n: 3, r: 4, w: 1) }
        #expect(throws: QuorumParameters.Invalid.w(0, n: 3)) { try QuorumParameters(n: 3, r: 1, w: 0) }
    }

    /// Random orders of answers (found / not found / failed), duplicates, stray nodes and a
    /// timeout somewhere, for every N ≤ 5 and R ≤ N: the model says when the reply is due and
    /// what it is.
    @Test func readsAnswerOnceAtTheRightMoment() throws {
        let seed = TestSeed.make("readsAnswerOnceAtTheRightMoment")
        var rng = SeededRandom(seed: seed)
        var runs = 0
        for n in 1...5 {
            for r in 1...n {
                for _ in 0..<200 {
                    runs += 1
                    let replicas = nodes(n)
                    var read = ReadQuorum(replicas: replicas, r: r)
                    #expect(read.start() == nil)
                    // The model: counts and join of what was fed before the reply.
                    var answered = 0, failed = 0
                    var merged: StoredRecord?
                    var replies: [(reply: ReadQuorum.Reply, answered: Int, failed: Int, merged: StoredRecord?, timeout: Bool)] = []
                    let timeoutAt = rng.chance(30) ? rng.below(n + 1) : Int.max
                    var order = replicas
                    for index in order.indices.reversed() { order.swapAt(index, rng.below(index + 1)) }
                    for (step, node) in order.enumerated() {
                        if step == timeoutAt, let reply = read.timedOut() {
                            replies.append((reply, answered, failed, merged, true))
                        }
                        let roll = rng.below(10)
                        if roll < 2 {
                            let reply = read.failed(node)
                            if step < timeoutAt, replies.isEmpty { failed += 1 }
                            if let reply { replies.append((reply, answered, failed, merged, false)) }
                        } else {
                            let record: StoredRecord? = roll < 4 ? nil : try cart("S\(rng.below(3))", at: node.value)
                            let reply = read.received(record, from: node)
                            if step < timeoutAt, replies.isEmpty {
                                answered += 1
                                if let record { merged = merged.map { $0.merging(record)! } ?? record }
                            }
                            if let reply { replies.append((reply, answered, failed, merged, false)) }
                        }
                        // Duplicates and strays change nothing.
                        #expect(read.received(try cart("X", at: 99), from: NodeID(99)) == nil)
                        #expect(read.received(nil, from: node) == nil && read.failed(node) == nil)
                    }
                    if timeoutAt == n, let reply = read.timedOut() { replies.append((reply, answered, failed, merged, true)) }
                    let context = "N=\(n) R=\(r) timeout at \(timeoutAt); seed \(seed)"
                    #expect(replies.count == 1, "\(context): replies \(replies.map(\.reply))")
                    guard let first = replies.first else { continue }
                    switch first.reply {
                    case let .found(record):
                        #expect(first.answered == r && first.merged == record, "\(context)")
                    case .notFound:
                        #expect(first.answered == r && first.merged == nil, "\(context)")
                    case .failed(.unreachable):
                        #expect(n - first.failed == r - 1 && first.answered < r, "\(context)")
                    case .failed(.timedOut):
                        #expect(first.timeout && first.answered < r, "\(context)")
                    }
                }
            }
        }
        print("quorum-reads: \(runs) random reads, one reply each")
    }

    @Test func readRepairTargetsExactlyTheReplicasBehind() throws {
        let a = try cart("A", at: 1), b = try cart("B", at: 2)
        let both = a.merging(b)!
        var read = ReadQuorum(replicas: nodes(4), r: 2)
        #expect(read.received(a, from: NodeID(1)) == nil)
        #expect(read.received(b, from: NodeID(2)) == .found(both))
        #expect(read.repairTargets == nodes(4), "1 and 2 are each behind; 3 and 4 never answered")
        #expect(read.received(both, from: NodeID(3)) == nil)
        #expect(read.failed(NodeID(4)) == nil)
        #expect(read.phase == .done)
        #expect(read.repairTargets == [NodeID(1), NodeID(2), NodeID(4)])
        // Not found everywhere: nothing to repair.
        var empty = ReadQuorum(replicas: nodes(3), r: 2)
        #expect(empty.received(nil, from: NodeID(1)) == nil)
        #expect(empty.received(nil, from: NodeID(3)) == .notFound)
        #expect(empty.repairTargets.isEmpty)
        // A failed read repairs nothing.
        var failing = ReadQuorum(replicas: nodes(3), r: 3)
        #expect(failing.received(a, from: NodeID(1)) == nil)
        #expect(failing.failed(NodeID(2)) == .failed(.unreachable(needed: 3, answered: 1, failed: 1, replicas: 3)))
        #expect(failing.repairTargets.isEmpty)
        // Fewer replicas than R (a ring smaller than N): fails at once.
        var small = ReadQuorum(replicas: nodes(1), r: 2)
        #expect(small.start() == .failed(.unreachable(needed: 2, answered: 0, failed: 0, replicas: 1)))
    }

    @Test func aRecordOfTheOtherKindCountsAsAFailure() throws {
        var read = ReadQuorum(replicas: nodes(3), r: 2)
        var siblings = SiblingSet()
        try siblings.write(Sibling(value: [1], timestampMs: 1), context: VersionVector(), at: ReplicaID(node: 2, epoch: 1),
                           issuedCounter: 0)
        #expect(read.received(try cart("A", at: 1), from: NodeID(1)) == nil)
        #expect(read.received(.siblings(siblings), from: NodeID(2)) == nil)
        #expect(read.received(try cart("B", at: 3), from: NodeID(3)) != nil)
        #expect(read.repairTargets.contains(NodeID(2)))
    }

    /// Random orders of acks, failures (with a fallback added first half the time),
    /// duplicates, strays and timeouts, for every N ≤ 5 and W ≤ N.
    @Test func writesAnswerOnceAtTheRightMoment() {
        let seed = TestSeed.make("writesAnswerOnceAtTheRightMoment")
        var rng = SeededRandom(seed: seed)
        var runs = 0
        for n in 1...5 {
            for w in 1...n {
                for _ in 0..<200 {
                    runs += 1
                    var write = WriteQuorum(targets: nodes(n), w: w)
                    #expect(write.start() == nil)
                    // The model: counts fed before the reply, and the reply's moment.
                    var acks = 0, failures = 0, targets = n, fallbackID: UInt64 = 100
                    var replies: [(reply: WriteQuorum.Reply, acks: Int, failures: Int, targets: Int, timeout: Bool)] = []
                    var pending = nodes(n)
                    while let node = pending.first {
                        pending.removeFirst()
                        if rng.chance(3), let reply = write.timedOut() {
                            replies.append((reply, acks, failures, targets, true))
                        }
                        let open = replies.isEmpty
                        if rng.chance(25) {
                            if rng.chance(50) {
                                // Sloppy quorum: a fallback takes the write before the failure is fed.
                                fallbackID += 1
                                write.addTarget(NodeID(fallbackID))
                                pending.append(NodeID(fallbackID))
                                if open { targets += 1 }
                            }
                            if open { failures += 1 }
                            if let reply = write.failed(node) { replies.append((reply, acks, failures, targets, false)) }
                        } else {
                            if open { acks += 1 }
                            if let reply = write.acked(from: node) { replies.append((reply, acks, failures, targets, false)) }
                        }
                        #expect(write.acked(from: node) == nil && write.acked(from: NodeID(99)) == nil)
                    }
                    let context = "N=\(n) W=\(w); seed \(seed)"
                    #expect(replies.count == 1, "\(context): \(replies.map(\.reply))")
                    guard let first = replies.first else { continue }
                    switch first.reply {
                    case let .succeeded(count): #expect(count == w && first.acks == w && !first.timeout, "\(context)")
                    case .failed(.unreachable): #expect(first.targets - first.failures == w - 1 && first.acks < w, "\(context)")
                    case .failed(.timedOut): #expect(first.timeout && first.acks < w, "\(context)")
                    }
                }
            }
        }
        print("quorum-writes: \(runs) random writes, one reply each")
    }
}
