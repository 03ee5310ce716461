import CartStorage
import CartTestSupport
import Testing
@testable import CartCluster

/// Gossip membership: the view's merge, the phi accrual detector, and gossip between nodes.
@Suite struct MembershipTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    func record(_ node: NodeID, generation: UInt64, version: UInt64, status: MemberStatus = .normal) -> MemberRecord {
        MemberRecord(node: node, address: "10.0.0.\(node.value):7000", generation: generation, version: version, status: status)
    }

    // MARK: - View merge

    @Test func aLaterGenerationSupersedesAnyVersionOfAnEarlierOne() {
        let old = record(n1, generation: 5, version: 1_000)
        let restarted = record(n1, generation: 6, version: 0)
        #expect(restarted.supersedes(old))
        #expect(!old.supersedes(restarted))
        #expect(record(n1, generation: 5, version: 2).supersedes(record(n1, generation: 5, version: 1)))
        #expect(!old.supersedes(old))

        var view = MembershipView([old])
        let tookRestarted = view.merge(restarted)
        let tookOld = view.merge(old)
        #expect(tookRestarted)
        #expect(!tookOld, "an older life's record never comes back")
        #expect(view[n1] == restarted)
    }

    /// Merging is a join: any order, grouping or repetition of the same records gives the same view.
    @Test func mergeIsCommutativeAssociativeAndIdempotent() {
        let name = "mergeIsCommutativeAssociativeAndIdempotent"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        for round in 0..<200 {
            // Records of three nodes from a few lives; each (node, generation, version) has one
            // status, as only the node issues its own records.
            var records: [MemberRecord] = []
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let node = NodeID(UInt64.random(in: 1...3, using: &rng))
                let generation = UInt64.random(in: 1...3, using: &rng)
                let version = UInt64.random(in: 0...4, using: &rng)
                let status = MemberStatus.allCases[Int((node.value &* 31 &+ generation &* 7 &+ version) % 4)]
                records.append(record(node, generation: generation, version: version, status: status))
            }
            let inOrder = MembershipView(records)
            let shuffled = MembershipView(records.shuffled(using: &rng))
            let repeated = MembershipView(records + records.shuffled(using: &rng))
            let split = Int.random(in: 0...records.count, using: &rng)
            var grouped = MembershipView(Array(records[split...]))
            for record in MembershipView(Array(records[..<split])).sorted { grouped.merge(record) }
            let context = "round \(round); \(TestSeed.repro(seed, name))"
            #expect(inOrder == shuffled, "\(context)")
            #expect(inOrder == repeated, "\(context)")
            #expect(inOrder == grouped, "\(context)")
            // Each node's newest record is kept.
            for node in [n1, n2, n3] {
                let newest = records.filter { $0.node == node }.max { ($0.generation, $0.version) < ($1.generation, $1.version) }
                #expect(inOrder[node] == newest, "\(context)")
            }
        }
    }

    @Test func newerThanListsExactlyWhatWouldAdvanceTheOtherView() {
        let mine = MembershipView([record(n1, generation: 2, version: 5), record(n2, generation: 1, version: 9),
                                   record(n3, generation: 1, version: 1)])
        let theirs = [record(n1, generation: 2, version: 7), record(n2, generation: 1, version: 3)]
        #expect(mine.newer(than: theirs) == [record(n2, generation: 1, version: 9), record(n3, generation: 1, version: 1)])
        // Pushing those to the other side makes the two views equal.
        var other = MembershipView(theirs)
        for record in mine.newer(than: theirs) { other.merge(record) }
        var both = mine
        for record in theirs { both.merge(record) }
        #expect(other == both)
        #expect(both.newer(than: both.sorted).isEmpty)
    }

    // MARK: - Failure detector

    func detector() -> FailureDetector { FailureDetector(threshold: 8, initialIntervalMs: 200, intervalMaxMs: 2_000) }

    @Test func phiGrowsWithSilenceAgainstTheMeanInterval() throws {
        var detector = detector()
        #expect(detector.phi(n2, nowMs: 5_000) == nil, "never heard: no phi")
        #expect(!detector.isDown(n2, nowMs: 1_000_000), "never heard: no evidence, not down")
        var now: UInt64 = 1_000
        for _ in 0..<50 {
            detector.heartbeat(n2, generation: 1, nowMs: now)
            now += 100
        }
        let last = now - 100
        #expect(detector.meanIntervalMs(n2) == 100)
        // phi = silence / mean × log10(e): 8 is crossed after about 18.4 mean intervals.
        #expect(abs(try #require(detector.phi(n2, nowMs: last + 100)) - 0.434) < 0.001)
        #expect(!detector.isDown(n2, nowMs: last + 1_800))
        #expect(detector.isDown(n2, nowMs: last + 1_900))
        #expect(detector.lastHeardMs(n2) == last)
    }

    @Test func aNewGenerationStartsAfreshAndLongGapsAreNotCounted() throws {
        var detector = detector()
        detector.heartbeat(n2, generation: 1, nowMs: 0)
        detector.heartbeat(n2, generation: 1, nowMs: 100)
        #expect(detector.meanIntervalMs(n2) == 100)
        // A partition of 10 s: the gap is not an interval, so the detector stays as strict.
        detector.heartbeat(n2, generation: 1, nowMs: 10_100)
        #expect(detector.meanIntervalMs(n2) == 100)
        #expect(detector.phi(n2, nowMs: 10_100) == 0)
        // The node restarts: its history starts over (the initial interval until one is measured).
        detector.heartbeat(n2, generation: 2, nowMs: 20_000)
        #expect(detector.meanIntervalMs(n2) == 200)
        #expect(!detector.isDown(n2, nowMs: 20_000 + 3_000))
        #expect(detector.isDown(n2, nowMs: 20_000 + 3_800))
    }

    @Test func aMessageStraightFromTheMemberIsEvidenceOfLife() {
        var detector = detector()
        detector.contact(n2, nowMs: 50)
        #expect(detector.phi(n2, nowMs: 60) == nil, "contact alone does not start a history")
        detector.heartbeat(n2, generation: 1, nowMs: 0)
        detector.heartbeat(n2, generation: 1, nowMs: 100)
        #expect(detector.isDown(n2, nowMs: 5_000))
        detector.contact(n2, nowMs: 5_000)
        #expect(!detector.isDown(n2, nowMs: 5_100))
        #expect(detector.meanIntervalMs(n2) == 100, "contact does not feed the intervals")
        #expect(detector.lastHeardMs(n2) == 5_000)
    }

    @Test func theWindowKeepsTheLastHundredIntervals() {
        var detector = detector()
        var now: UInt64 = 0
        detector.heartbeat(n2, generation: 1, nowMs: now)
        for _ in 0..<FailureDetector.windowSize {
            now += 1_000
            detector.heartbeat(n2, generation: 1, nowMs: now)
        }
        #expect(detector.meanIntervalMs(n2) == 1_000)
        for _ in 0..<FailureDetector.windowSize {
            now += 10
            detector.heartbeat(n2, generation: 1, nowMs: now)
        }
        #expect(detector.meanIntervalMs(n2) == 10, "the slow intervals have left the window")
    }

    /// A node's generation only grows, even when its clock went back across a restart (a peer
    /// would otherwise keep its older life's records for ever).
    @Test func aGenerationOnlyGrowsAcrossStartsWhateverTheClock() throws {
        var options = StorageOptions()
        options.fileSystem = MemoryFileSystem()
        options.backgroundMode = .manual
        let engine = try StorageEngine.open("/g", options: options)
        defer { try? engine.close() }
        func start(_ startMs: UInt64) throws -> UInt64 {
            try NodeStorage(engine: engine, node: n1, freshEpoch: 1, startMs: startMs).generation
        }
        #expect(try start(5_000) == 5_000)
        #expect(try start(100) == 5_001, "the clock went back: one above the last")
        #expect(try start(100) == 5_002)
        #expect(try start(9_000) == 9_000)
        #expect(try start(0) == 9_001)
    }

    // MARK: - Gossip between nodes

    @Test func gossipSpreadsEveryMembersLifeAndDetectsADownNode() throws {
        let cluster = try TestCluster(nodes: 5) { $0.gossipIntervalMs = 100 }
        cluster.run(forMs: 3_000)
        let ids = cluster.ring.nodes
        for id in ids {
            let view = cluster.node(id).membership
            #expect(Set(view.records.keys) == Set(ids), "\(id) knows every member")
            for other in ids {
                #expect(view[other]?.generation == cluster.node(other).membership[other]?.generation)
            }
            #expect(cluster.node(id).members(nowMs: cluster.nowMs).allSatisfy { $0.up }, "\(id) judges every member up")
        }
        // Heartbeats move on.
        let before = cluster.node(n1).membership[n2]!.version
        cluster.run(forMs: 1_000)
        #expect(cluster.node(n1).membership[n2]!.version > before)

        // n3 goes silent: within 18.4 mean intervals and some, everyone judges it down, and
        // the coordinator no longer counts on it.
        cluster.down = [n3]
        cluster.run(forMs: 5_000)
        for id in ids where id != n3 {
            let report = try #require(cluster.node(id).members(nowMs: cluster.nowMs).first { $0.record.node == n3 })
            #expect(!report.up, "\(id) judges n3 down (phi \(report.phi ?? -1))")
            #expect(cluster.node(id).suspects(n3, nowMs: cluster.nowMs))
            #expect(cluster.node(id).members(nowMs: cluster.nowMs).filter { $0.up }.count == ids.count - 1)
        }
        // A checkout that needs n3 is refused at once, before anything is sent.
        let sentBefore = cluster.sent.count
        let start = cluster.nowMs
        let checkoutID = try CheckoutID("fast-fail")
        let cart = cluster.key(prefix: "cart:ff", replicas: [n1, n2, n3])
        let reply = cluster.call(ClientRequest(key: cart, operation: .checkout(checkoutID)), at: n1)
        guard case let .unavailable(.unreachable(_, answered, failed, _))? = reply else {
            Issue.record("\(String(describing: reply))"); return
        }
        #expect(answered == 0 && failed == 1)
        #expect(cluster.nowMs - start <= 10, "answered at once")
        #expect(!cluster.sent[sentBefore...].contains {
            switch $0.message {
            case .checkoutPrepare, .read: return true
            default: return false
            }
        }, "nothing was asked of any replica")
        // (Coming back is the simulator's detect phase: TestCluster drops a down node's timers.)
    }

    @Test func aNodeIgnoresRecordsAboutItselfAndStrangers() throws {
        let cluster = try TestCluster(nodes: 3) { $0.gossipIntervalMs = 100 }
        var node = cluster.node(n1)
        let own = node.membership[n1]!
        let forged = record(n1, generation: own.generation + 1, version: 0, status: .removed)
        let stranger = record(NodeID(99), generation: 1, version: 1)
        _ = node.handle(.message(.gossip(records: [forged, stranger]), from: n2), nowMs: cluster.nowMs)
        #expect(node.membership[n1] == own, "only a node speaks for itself")
        #expect(node.membership[NodeID(99)] == nil, "a node outside the ring is not a member")
    }
}
