import CartStorage
import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// The checkout: the acceptor's transitions, its durable store over a real engine, and the
/// protocol end to end (`ClusterNode+Checkout`) through `TestCluster` and, for interleavings and
/// lost messages, through `InterleavingCluster` below: one order per checkout id whatever the
/// interleaving, an acknowledged order on every acceptor, failed attempts completed by retries
/// rather than replaced, and the cart clear keeping what was added after the cart was read.
@Suite struct CheckoutTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    // MARK: Helpers

    func id(_ text: String) throws -> CheckoutID { try CheckoutID(text) }

    func item(_ sku: String, _ quantity: Int64 = 1) -> CartItem {
        CartItem(sku: sku, quantity: quantity, name: sku, priceMinor: 100, metadata: [:], addedAtMs: 1, updatedAtMs: 1)
    }

    func order(_ checkout: CheckoutID, _ skus: [String], createdMs: UInt64 = 1, coordinator: NodeID = NodeID(1)) -> Order {
        Order(checkoutID: checkout, cartKey: Array("cart:1".utf8), items: skus.sorted().map { item($0) },
              context: CausalContext(), createdMs: createdMs, coordinator: coordinator)
    }

    func ballot(_ round: UInt64, _ node: UInt64) -> Ballot { Ballot(round: round, node: NodeID(node)) }

    func add(_ sku: String, _ quantity: Int64 = 1, name: String? = nil, priceMinor: Int64 = 100,
             metadata: [String: String] = [:], id: String) -> ClientRequest.Operation {
        .cart(.add(sku: sku, quantity: quantity,
                   details: CartItemDetails(name: name ?? sku, priceMinor: priceMinor, metadata: metadata)),
              id: OperationID(id), observed: nil)
    }

    func checkout(_ cart: [UInt8], _ checkout: CheckoutID, timeoutMs: UInt64? = nil) -> ClientRequest {
        ClientRequest(key: cart, operation: .checkout(checkout), timeoutMs: timeoutMs)
    }

    func readOrder(_ checkout: CheckoutID) -> ClientRequest {
        ClientRequest(key: checkout.orderKey, operation: .readOrder(checkout))
    }

    /// The cart as all three replicas hold it (empty if absent).
    func view(_ cluster: TestCluster, _ key: [UInt8], at node: NodeID) -> CartView? {
        switch cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: node) {
        case let .found(.cart(state))?: return state.view
        case .notFound?: return CartView(items: [], context: CausalContext())
        default: return nil
        }
    }

    func states(_ nodes: [ClusterNode], _ checkout: CheckoutID) throws -> [NodeID: CheckoutAcceptor] {
        var states: [NodeID: CheckoutAcceptor] = [:]
        for node in nodes { states[node.node] = try node.storage.checkouts.state(checkout) }
        return states
    }

    func states(_ cluster: TestCluster, _ checkout: CheckoutID) throws -> [NodeID: CheckoutAcceptor] {
        try states(cluster.ring.nodes.map { cluster.node($0) }, checkout)
    }

    /// A cart of three items (Unicode SKUs and names, metadata) whose replicas are n1, n2, n3.
    func fillCart(_ cluster: TestCluster, prefix: String = "cart:") throws -> [UInt8] {
        let key = cluster.key(prefix: prefix, replicas: [n1, n2, n3])
        let operations = [
            add("A1", 2, name: "Mug", priceMinor: 1_299, metadata: ["color": "red"], id: "\(prefix)-1"),
            add("café", 1, name: "Café crème ☕", priceMinor: 450, id: "\(prefix)-2"),
            add("ü€😀ß", 3, name: "Ünïcødé 😀", priceMinor: 0, metadata: ["é": "ü"], id: "\(prefix)-3"),
        ]
        for operation in operations {
            let reply = cluster.call(ClientRequest(key: key, operation: operation, w: 3), at: n1)
            guard case .written? = reply else { throw Failure("add: \(String(describing: reply))") }
        }
        return key
    }

    /// A checkout id whose acceptors are `acceptors`, in order.
    func checkoutID(_ prefix: String, acceptors: [NodeID], in ring: Ring) throws -> CheckoutID {
        for i in 0..<10_000 {
            let c = try id("\(prefix)\(i)")
            if ring.preferenceList(forKey: c.orderKey, n: 3) == acceptors { return c }
        }
        throw Failure("no checkout id with acceptors \(acceptors)")
    }

    func isCheckoutMessage(_ message: ClusterMessage) -> Bool {
        switch message {
        case .checkoutPrepare, .checkoutAccept, .checkoutVote, .checkoutCommit, .checkoutCommitted, .orderRead, .orderReadReply,
             .read, .forward:
            return true
        default:
            return false
        }
    }

    func isSend(_ effect: NodeEffect) -> Bool {
        if case .send = effect { return true }
        return false
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: - Acceptor

    @Test func ballotsOrderByRoundThenNode() {
        #expect(Ballot.zero < ballot(1, 0))
        #expect(ballot(1, 9) < ballot(2, 1))
        #expect(ballot(2, 1) < ballot(2, 2))
        #expect(!(ballot(2, 2) < ballot(2, 2)))
        #expect(ballot(UInt64.max, 0) < ballot(UInt64.max, UInt64.max))
    }

    @Test func aPrepareNeedsABallotAboveEveryPromise() throws {
        var acceptor = CheckoutAcceptor()
        #expect(acceptor.promised == .zero && acceptor.accepted == nil && acceptor.committed == nil)
        #expect(acceptor.prepare(.zero) == .refused(promised: .zero), "ballot zero is below every proposer's")
        #expect(acceptor.prepare(ballot(1, 2)) == .granted(accepted: nil))
        #expect(acceptor.promised == ballot(1, 2))
        #expect(acceptor.prepare(ballot(1, 2)) == .refused(promised: ballot(1, 2)), "an equal ballot is refused (a reused ballot)")
        #expect(acceptor.prepare(ballot(1, 1)) == .refused(promised: ballot(1, 2)))
        #expect(acceptor.promised == ballot(1, 2), "a refusal changes nothing")
        #expect(acceptor.prepare(ballot(1, 3)) == .granted(accepted: nil))
        #expect(acceptor.prepare(ballot(2, 1)) == .granted(accepted: nil))
        #expect(acceptor.promised == ballot(2, 1))
    }

    @Test func anAcceptNeedsABallotAtLeastThePromiseAndAPrepareReportsIt() throws {
        let c = try id("c")
        let first = order(c, ["A"]), second = order(c, ["B"])
        var acceptor = CheckoutAcceptor()
        #expect(acceptor.prepare(ballot(2, 1)) == .granted(accepted: nil))
        #expect(acceptor.accept(first, ballot: ballot(1, 9)) == .refused(promised: ballot(2, 1)))
        #expect(acceptor.accepted == nil)
        #expect(acceptor.accept(first, ballot: ballot(2, 1)) == .granted(accepted: nil), "the promised ballot itself")
        #expect(acceptor.accepted == AcceptedProposal(ballot: ballot(2, 1), order: first))
        #expect(acceptor.prepare(ballot(3, 2)) == .granted(accepted: AcceptedProposal(ballot: ballot(2, 1), order: first)))
        #expect(acceptor.accept(second, ballot: ballot(2, 1)) == .refused(promised: ballot(3, 2)))
        #expect(acceptor.accepted?.order == first)
        // An accept above the promise without a prepare raises the promise.
        #expect(acceptor.accept(second, ballot: ballot(5, 1)) == .granted(accepted: nil))
        #expect(acceptor.promised == ballot(5, 1) && acceptor.accepted == AcceptedProposal(ballot: ballot(5, 1), order: second))
        #expect(acceptor.prepare(ballot(5, 1)) == .refused(promised: ballot(5, 1)))
        #expect(acceptor.checkInvariants() == nil)
    }

    @Test func aDecisionStaysAndAnswersEveryLaterPrepareAndAccept() throws {
        let c = try id("c")
        let chosen = order(c, ["A"]), other = order(c, ["B"])
        var acceptor = CheckoutAcceptor()
        _ = acceptor.prepare(ballot(1, 1))
        _ = acceptor.accept(chosen, ballot: ballot(1, 1))
        #expect(acceptor.commit(chosen) == true)
        let decided = acceptor
        #expect(acceptor.commit(chosen) == true, "a repeated commit of the same order is fine")
        #expect(acceptor.commit(other) == false, "a different order is refused")
        #expect(acceptor.prepare(ballot(9, 9)) == .decided(chosen))
        #expect(acceptor.accept(other, ballot: ballot(9, 9)) == .decided(chosen))
        #expect(acceptor == decided, "nothing changes after the decision")

        var fresh = CheckoutAcceptor()
        #expect(fresh.commit(other) == true, "a commit needs no earlier promise or acceptance")
        #expect(fresh.committed == other && fresh.promised == .zero && fresh.accepted == nil)
        #expect(fresh.prepare(ballot(1, 1)) == .decided(other))
    }

    /// Random operations against a model of the rules: the promise never falls, an accepted
    /// ballot never exceeds it, a decision never changes, and every vote follows the table in
    /// data-format.md ("Checkout protocol").
    @Test func randomTransitionsKeepTheInvariants() throws {
        let name = "randomTransitionsKeepTheInvariants"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        let c = try id("c")
        let orders = [order(c, ["A"]), order(c, ["B"]), order(c, ["A", "B"])]
        for run in 0..<200 {
            var acceptor = CheckoutAcceptor()
            for step in 0..<40 {
                let before = acceptor
                let b = ballot(UInt64(rng.below(5)), UInt64(rng.below(4)))
                let o = rng.pick(orders)
                let context = "run \(run) step \(step); \(TestSeed.repro(seed, name))"
                switch rng.below(3) {
                case 0:
                    let vote = acceptor.prepare(b)
                    if let committed = before.committed {
                        #expect(vote == .decided(committed) && acceptor == before, "\(context)")
                    } else if b > before.promised {
                        #expect(vote == .granted(accepted: before.accepted) && acceptor.promised == b, "\(context)")
                    } else {
                        #expect(vote == .refused(promised: before.promised) && acceptor == before, "\(context)")
                    }
                case 1:
                    let vote = acceptor.accept(o, ballot: b)
                    if let committed = before.committed {
                        #expect(vote == .decided(committed) && acceptor == before, "\(context)")
                    } else if b >= before.promised {
                        #expect(vote == .granted(accepted: nil) && acceptor.accepted == AcceptedProposal(ballot: b, order: o)
                                && acceptor.promised == b, "\(context)")
                    } else {
                        #expect(vote == .refused(promised: before.promised) && acceptor == before, "\(context)")
                    }
                default:
                    let ok = acceptor.commit(o)
                    #expect(ok == (before.committed == nil || before.committed == o), "\(context)")
                    #expect(acceptor.committed == (before.committed ?? o), "\(context)")
                }
                #expect(acceptor.promised >= before.promised, "\(context)")
                #expect(acceptor.checkInvariants() == nil, "\(context)")
                // Every reachable state is stored and read back unchanged.
                #expect(try ClusterMessageCodec.decodeAcceptor(try ClusterMessageCodec.encodeAcceptor(acceptor)) == acceptor,
                        "\(context)")
            }
        }
    }

    // MARK: - Checkout ids and orders

    @Test func checkoutIDsAreValidatedByBytes() throws {
        for bad in ["", "a/b", "/", "x\u{7}", "tab\t", "nul\u{0}", "c1\u{85}", String(repeating: "a", count: 49),
                    String(repeating: "é", count: 25)] {
            #expect(throws: CheckoutID.Invalid.self, "\(bad.debugDescription)") { try CheckoutID(bad) }
        }
        for good in ["a", "order-1", "ü-€ 😀", String(repeating: "a", count: 48), String(repeating: "é", count: 24), "a b:c"] {
            #expect(try CheckoutID(good).text == good)
        }
        let c = try id("c1")
        #expect(c.orderKey == Array("order:c1".utf8))
        #expect(c.clearOperationID == OperationID("checkout:c1"))
        // Ordered by bytes: "Z" (5a) < "a" (61) < "é" (c3 a9).
        #expect(try id("Z") < id("a") && id("a") < id("é"))
    }

    /// Two ids with different bytes are different checkouts (different order keys, acceptors,
    /// stored states), so they must not be equal, even when they are canonically equivalent
    /// Unicode ("café" precomposed and decomposed): `CheckoutID` says it is "compared by bytes",
    /// and its `<` compares bytes, so `==` must agree with it.
    @Test func checkoutIDsAreEqualOnlyWhenTheirBytesAre() throws {
        let precomposed = try id("caf\u{E9}"), decomposed = try id("cafe\u{301}")
        #expect(precomposed.orderKey != decomposed.orderKey, "two checkouts, two order keys")
        #expect(decomposed < precomposed, "ordered by bytes: 65 cc 81 < c3 a9")
        #expect(precomposed != decomposed, "== must agree with < and with the order keys")
        #expect(Set([precomposed, decomposed]).count == 2)
    }

    @Test func anOrdersTotalSumsItsLinesAndSaturates() throws {
        let c = try id("c")
        let lines = Order(checkoutID: c, cartKey: [], items: [
            CartItem(sku: "A", quantity: 2, name: "", priceMinor: 1_299, metadata: [:], addedAtMs: 0, updatedAtMs: 0),
            CartItem(sku: "B", quantity: 3, name: "", priceMinor: 5, metadata: [:], addedAtMs: 0, updatedAtMs: 0),
        ], context: CausalContext(), createdMs: 0, coordinator: n1)
        #expect(lines.totalMinor == 2_613)
        let huge = Order(checkoutID: c, cartKey: [], items: [
            CartItem(sku: "A", quantity: Int64.max, name: "", priceMinor: 2, metadata: [:], addedAtMs: 0, updatedAtMs: 0),
        ], context: CausalContext(), createdMs: 0, coordinator: n1)
        #expect(huge.totalMinor == Int64.max)
        let sum = Order(checkoutID: c, cartKey: [], items: [
            CartItem(sku: "A", quantity: 1, name: "", priceMinor: Int64.max, metadata: [:], addedAtMs: 0, updatedAtMs: 0),
            CartItem(sku: "B", quantity: 1, name: "", priceMinor: 1, metadata: [:], addedAtMs: 0, updatedAtMs: 0),
        ], context: CausalContext(), createdMs: 0, coordinator: n1)
        #expect(sum.totalMinor == Int64.max)
    }

    // MARK: - Store

    func openEngine(_ fileSystem: MemoryFileSystem) throws -> StorageEngine {
        var options = StorageOptions()
        options.fileSystem = fileSystem
        options.backgroundMode = .manual
        return try StorageEngine.open("/db", options: options)
    }

    @Test func theStoreKeepsEachIDsStateUnderItsKeyAndWritesOnlyChanges() throws {
        let engine = try openEngine(MemoryFileSystem())
        let store = CheckoutStore(engine: engine)
        let c1 = try id("c1"), c2 = try id("ü€")
        #expect(try store.state(c1) == CheckoutAcceptor())
        let refused = try store.update(c1) { $0.prepare(.zero) }
        #expect(refused == .refused(promised: .zero))
        #expect(try store.all().isEmpty, "a transition that changes nothing writes nothing")
        let promise = try store.update(c1) { $0.prepare(ballot(1, 2)) }
        #expect(promise == .granted(accepted: nil))
        #expect(try engine.get([0x03, 0x63, 0x31]) == [
            0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x00, 0x00,
        ])
        let chosen = order(c2, ["A", "B"])
        let acceptance = try store.update(c2) { $0.accept(chosen, ballot: ballot(3, 1)) }
        #expect(acceptance == .granted(accepted: nil))
        let committed = try store.update(c2) { $0.commit(chosen) }
        #expect(committed)
        let late = try store.update(c2) { $0.prepare(ballot(9, 9)) }
        #expect(late == .decided(chosen))
        #expect(try store.state(c2).committed == chosen)
        #expect(try store.state(c2).accepted == AcceptedProposal(ballot: ballot(3, 1), order: chosen))
        #expect(try store.state(c1).promised == ballot(1, 2))
        let all = try store.all()
        #expect(all.map(\.0) == [c1, c2], "ascending by id bytes")
        #expect(all.map(\.1) == [try store.state(c1), try store.state(c2)])
        #expect(try engine.get(CheckoutStore.storedKey(c2)) == (try ClusterMessageCodec.encodeAcceptor(try store.state(c2))))
    }

    @Test func theStoreListsOnlyItsNamespaceAndRefusesMalformedEntries() throws {
        let engine = try openEngine(MemoryFileSystem())
        let store = CheckoutStore(engine: engine)
        let c = try id("c")
        try engine.put([0x02] + Array("epoch".utf8), [0, 0, 0, 1])
        try engine.put([0x04, 0x61], [0xFF])
        try engine.put([0x00, 0x61], [0xFF])
        _ = try store.update(c) { $0.prepare(ballot(1, 1)) }
        #expect(try store.all().map(\.0) == [c], "only namespace 0x03")

        try engine.put(CheckoutStore.storedKey(try id("bad")), [0x02])
        #expect(throws: CheckoutStore.Failure.self) { try store.state(try id("bad")) }
        #expect(throws: CheckoutStore.Failure.self) { try store.all() }
        let bad = try id("bad")
        do {
            _ = try store.update(bad) { $0.prepare(ballot(5, 5)) }
            Issue.record("an update over a malformed state went through")
        } catch {
            guard case .malformed = error else { Issue.record("\(error)"); return }
        }
        try engine.delete(CheckoutStore.storedKey(try id("bad")))
        #expect(try store.all().count == 1)

        try engine.put([0x03] + Array("a/b".utf8), try ClusterMessageCodec.encodeAcceptor(CheckoutAcceptor()))
        do {
            _ = try store.all()
            Issue.record("a key that is not a checkout id was listed")
        } catch {
            guard case .malformedKey = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func acceptorStatesSurvivePowerLoss() throws {
        let fileSystem = MemoryFileSystem()
        let store = CheckoutStore(engine: try openEngine(fileSystem))
        var expected: [CheckoutID: CheckoutAcceptor] = [:]
        for i in 0..<30 {
            let c = try id("c\(i)")
            let chosen = order(c, ["A\(i)"])
            expected[c] = try store.update(c) { state in
                _ = state.prepare(ballot(UInt64(1 + i % 4), 2))
                if i % 3 != 0 { _ = state.accept(chosen, ballot: state.promised) }
                if i % 3 == 2 { _ = state.commit(chosen) }
                return state
            }
        }
        fileSystem.powerLoss(seed: 11)
        let reopened = CheckoutStore(engine: try openEngine(fileSystem))
        for (c, state) in expected {
            #expect(try reopened.state(c) == state, "\(c)")
        }
        #expect(try reopened.all().count == 30)
    }

    // MARK: - Protocol (TestCluster)

    @Test func aCheckoutDecidesTheCartsItemsClearsTheCartAndReplaysOnRetry() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let before = try #require(view(cluster, key, at: n2))
        #expect(before.items.count == 3)
        let c = try id("order-1")
        #expect(cluster.call(readOrder(c), at: n3) == .notFound, "nothing decided yet")

        let reply = cluster.call(checkout(key, c), at: n1)
        guard case let .checkedOut(order, false)? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(order.items == before.items, "the order is the cart as read")
        #expect(order.context == before.context)
        #expect(order.checkoutID == c && order.cartKey == key && order.coordinator == n1)
        #expect(order.totalMinor == 2 * 1_299 + 450)

        #expect(view(cluster, key, at: n3)?.items == [], "the cart is empty")
        for (node, state) in try states(cluster, c) {
            #expect(state.committed == order, "\(node)")
            #expect(state.accepted?.order == order, "\(node)")
        }
        for node in [n2, n3, n1] {
            #expect(cluster.call(checkout(key, c), at: node) == .checkedOut(order, replayed: true), "retry at \(node)")
            #expect(cluster.call(readOrder(c), at: node) == .order(order), "read at \(node)")
        }
        #expect(view(cluster, key, at: n1)?.items == [], "the retries' clears applied once")
        #expect(cluster.node(n1).statistics.checkoutsCompleted == 2 && cluster.node(n1).statistics.checkoutsReplayed == 1)
        #expect(cluster.node(n2).statistics.checkoutsReplayed == 1)
        for node in cluster.ring.nodes { #expect(cluster.node(node).requestsInFlight == 0) }
    }

    @Test func checkoutsAreValidatedAtIntakeAndIgnoreRAndW() throws {
        let cluster = try TestCluster(nodes: 3)
        let c = try id("intake")
        let opaque = cluster.key(prefix: "kv:", replicas: [n1, n2, n3])
        #expect(cluster.call(checkout(opaque, c), at: n1) == .rejected(.wrongKind(policy: .siblings)))
        #expect(cluster.call(checkout([], c), at: n1) == .rejected(.invalidKey(bytes: 0, max: ReplicaStore.keyBytesMax)))
        #expect(cluster.call(checkout(Array("cart:1".utf8), c, timeoutMs: 0), at: n1)
                == .rejected(.invalidTimeout(ms: 0, maxMs: 60_000)))
        #expect(cluster.call(ClientRequest(key: c.orderKey, operation: .readOrder(c), timeoutMs: 60_001), at: n1)
                == .rejected(.invalidTimeout(ms: 60_001, maxMs: 60_000)))
        #expect(!cluster.sent.contains { isCheckoutMessage($0.message) }, "nothing was sent for a refused request")
        for (node, state) in try states(cluster, c) { #expect(state == CheckoutAcceptor(), "\(node)") }

        let key = try fillCart(cluster)
        let odd = ClientRequest(key: key, operation: .checkout(c), r: 9, w: -1)
        guard case .checkedOut(_, false)? = cluster.call(odd, at: n2) else { Issue.record("R and W are not ignored"); return }
    }

    @Test func anEmptyCartIsRejectedAndDecidesNothing() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        let c = try id("empty-1")
        #expect(cluster.call(checkout(key, c), at: n1) == .rejected(.emptyCart), "a cart never written")
        _ = cluster.call(ClientRequest(key: key, operation: add("A", id: "e-1"), w: 3), at: n1)
        _ = cluster.call(ClientRequest(key: key, operation: .cart(.remove(sku: "A"), id: OperationID("e-2"), observed: nil), w: 3),
                         at: n1)
        #expect(cluster.call(checkout(key, c), at: n2) == .rejected(.emptyCart), "a cart whose items were removed")
        for (node, state) in try states(cluster, c) {
            #expect(state.accepted == nil && state.committed == nil, "\(node)")
        }
        #expect(cluster.call(readOrder(c), at: n3) == .notFound)

        // The id is still free: once the cart has items, it checks them out.
        _ = cluster.call(ClientRequest(key: key, operation: add("B", 2, id: "e-3"), w: 3), at: n1)
        let reply = cluster.call(checkout(key, c), at: n3)
        guard case let .checkedOut(order, false)? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(order.items.map(\.sku) == ["B"] && order.items[0].quantity == 2)
    }

    @Test func theSameIDForAnotherCartIsRejectedAsInUse() throws {
        let cluster = try TestCluster(nodes: 3)
        let first = try fillCart(cluster, prefix: "cart:first-")
        let second = try fillCart(cluster, prefix: "cart:second-")
        let secondBefore = try #require(view(cluster, second, at: n1))
        let c = try id("shared")
        guard case let .checkedOut(order, false)? = cluster.call(checkout(first, c), at: n1) else {
            Issue.record("first checkout failed"); return
        }
        for node in [n1, n2, n3] {
            #expect(cluster.call(checkout(second, c), at: node) == .rejected(.checkoutIDInUse(c)), "at \(node)")
        }
        #expect(view(cluster, second, at: n2) == secondBefore, "the other cart is untouched")
        #expect(cluster.call(readOrder(c), at: n2) == .order(order))
        #expect(cluster.call(checkout(first, c), at: n2) == .checkedOut(order, replayed: true))
    }

    @Test func aCheckoutWithAnAcceptorUnreachableIsUnavailableUntilItIsBack() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let before = try #require(view(cluster, key, at: n1))
        let c = try id("down-1")
        cluster.down = [n3]
        let start = cluster.nowMs
        let reply = cluster.call(checkout(key, c, timeoutMs: 5_000), at: n1)
        guard case let .unavailable(.timedOut(needed, answered, replicas))? = reply else {
            Issue.record("\(String(describing: reply))"); return
        }
        #expect((needed, answered, replicas) == (3, 2, 3))
        #expect(cluster.nowMs - start < 5_000, "answered at the replica timeout, not the deadline")
        for (node, state) in try states(cluster, c) {
            #expect(state.committed == nil && state.accepted == nil, "\(node): nothing accepted without every promise")
        }
        let read = cluster.call(readOrder(c), at: n2)
        guard case .unavailable? = read else {
            Issue.record("a failed attempt leaves nothing a read shows, and with an acceptor down not found is not proven: \(String(describing: read))")
            return
        }

        cluster.down = []
        let retry = cluster.call(checkout(key, c), at: n1)
        guard case let .checkedOut(order, false)? = retry else { Issue.record("\(String(describing: retry))"); return }
        #expect(order.items == before.items)
        for (node, state) in try states(cluster, c) { #expect(state.committed == order, "\(node)") }
        #expect(view(cluster, key, at: n2)?.items == [])
    }

    /// An order is accepted by every acceptor, then its proposer (a node that is not an
    /// acceptor) goes silent before it commits: the next attempt, through another node,
    /// completes that order, not a new one.
    @Test func anAcceptedButUncommittedOrderIsCompletedByTheNextAttempt() throws {
        let cluster = try TestCluster(nodes: 4)
        let checkoutID = try checkoutID("silent-", acceptors: [n1, n2, n3], in: cluster.ring)
        let key = try fillCart(cluster)
        let before = try #require(view(cluster, key, at: n1))
        let tag = cluster.request(checkout(key, checkoutID), at: n4)
        var steps = 0
        while try !states(cluster, checkoutID).filter({ $0.key != n4 }).values.allSatisfy({ $0.accepted != nil }) {
            cluster.run(forMs: 1)
            steps += 1
            try #require(steps < 1_000, "the order was never accepted")
        }
        cluster.down = [n4]
        let accepted = try #require(try states(cluster, checkoutID)[n1]?.accepted?.order)
        #expect(accepted.coordinator == n4 && accepted.items == before.items)
        for (node, state) in try states(cluster, checkoutID) where node != n4 {
            #expect(state.accepted?.order == accepted && state.committed == nil, "\(node)")
        }
        #expect(cluster.call(readOrder(checkoutID), at: n2) == .notFound, "accepted is not decided")

        let retry = cluster.call(checkout(key, checkoutID), at: n2)
        #expect(retry == .checkedOut(accepted, replayed: true), "the accepted order, not a new one")
        for (node, state) in try states(cluster, checkoutID) where node != n4 {
            #expect(state.committed == accepted, "\(node)")
        }
        #expect(view(cluster, key, at: n1)?.items == [])

        cluster.down = []
        cluster.run(forMs: 3_000)
        let first = cluster.replies[tag]
        guard case .unavailable? = first else { Issue.record("n4's own attempt: \(String(describing: first))"); return }
        #expect(cluster.call(checkout(key, checkoutID), at: n4) == .checkedOut(accepted, replayed: true))
    }

    /// A value accepted by one acceptor under a high ballot (as a crashed proposer leaves it):
    /// the next attempt is refused once, goes above that ballot, and completes that value.
    @Test func aValueAcceptedByOneAcceptorIsCompletedNotReplaced() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let before = try #require(view(cluster, key, at: n1))
        let c = try id("injected")
        let injected = Order(checkoutID: c, cartKey: key, items: before.items, context: before.context, createdMs: 42,
                             coordinator: NodeID(99))
        let high = ballot(5, 99)
        _ = try cluster.node(n2).storage.checkouts.update(c) { state in
            _ = state.prepare(high)
            return state.accept(injected, ballot: high)
        }
        let reply = cluster.call(checkout(key, c), at: n1)
        #expect(reply == .checkedOut(injected, replayed: true))
        #expect(cluster.node(n1).statistics.checkoutRetries >= 1, "refused by n2's promise first")
        for (node, state) in try states(cluster, c) {
            #expect(state.committed == injected, "\(node)")
            #expect(state.promised > high, "\(node): the winning ballot went above the injected one")
        }
        #expect(view(cluster, key, at: n3)?.items == [])
    }

    /// Not found needs every acceptor's word (one whose disk was replaced would say "none"
    /// about an acknowledged order); a decided order needs one.
    @Test func aReadOrderIsNotFoundOnlyWhenEveryAcceptorSaysSo() throws {
        let cluster = try TestCluster(nodes: 4)
        let checkoutID = try checkoutID("read-", acceptors: [n1, n2, n3], in: cluster.ring)
        #expect(cluster.call(readOrder(checkoutID), at: n4) == .notFound)
        cluster.down = [n1, n2]
        let partial = cluster.call(readOrder(checkoutID), at: n4)
        guard case .unavailable? = partial else { Issue.record("one acceptor's none: \(String(describing: partial))"); return }
        cluster.down = [n1, n2, n3]
        let reply = cluster.call(readOrder(checkoutID), at: n4)
        guard case .unavailable? = reply else { Issue.record("\(String(describing: reply))"); return }
    }

    /// An acceptor that lost its decision (its disk was replaced) gets it back from the next
    /// order read, which still answers at once from the others.
    @Test func anOrderReadRepairsAnAcceptorThatLacksTheDecision() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let c = try id("repaired")
        guard case let .checkedOut(order, false)? = cluster.call(checkout(key, c), at: n1) else {
            Issue.record("the checkout did not complete"); return
        }
        try cluster.node(n2).storage.engine.delete(CheckoutStore.storedKey(c))
        #expect(try states(cluster, c)[n2]?.committed == nil)
        #expect(cluster.call(readOrder(c), at: n3) == .order(order))
        cluster.run(forMs: 1_000)
        for (node, state) in try states(cluster, c) { #expect(state.committed == order, "\(node)") }
        #expect(cluster.node(n3).statistics.orderRepairs == 1)
        // A read that finds the decision everywhere sends nothing.
        #expect(cluster.call(readOrder(c), at: n3) == .order(order))
        cluster.run(forMs: 1_000)
        #expect(cluster.node(n3).statistics.orderRepairs == 1)
    }

    /// Items added after the checkout read the cart (an item it ordered, and a new one) survive
    /// the clear that completes it.
    @Test func itemsAddedAfterTheCartReadSurviveTheClear() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let before = try #require(view(cluster, key, at: n1))
        let c = try id("concurrent-add")
        let tag = cluster.request(checkout(key, c), at: n1)
        var steps = 0
        while try !states(cluster, c).values.allSatisfy({ $0.accepted != nil }) {
            cluster.run(forMs: 1)
            steps += 1
            try #require(steps < 1_000, "the order was never accepted")
        }
        let late = cluster.call(ClientRequest(key: key, operation: add("NEW", 2, id: "late-1"), w: 3), at: n2)
        guard case .written? = late else { Issue.record("\(String(describing: late))"); return }
        let more = cluster.call(ClientRequest(key: key, operation: add("A1", 1, name: "Mug", priceMinor: 1_299,
                                                                       metadata: ["color": "red"], id: "late-2"), w: 3), at: n3)
        guard case .written? = more else { Issue.record("\(String(describing: more))"); return }
        while cluster.replies[tag] == nil { cluster.run(forMs: 10) }
        guard case let .checkedOut(order, false)? = cluster.replies[tag] else {
            Issue.record("\(String(describing: cluster.replies[tag]))"); return
        }
        #expect(order.items == before.items, "the order has what was read")
        let after = try #require(view(cluster, key, at: n2))
        #expect(after.items.map(\.sku) == ["A1", "NEW"])
        #expect(after.items.first { $0.sku == "A1" }?.quantity == 1, "the unit added after the read stays")
        #expect(after.items.first { $0.sku == "NEW" }?.quantity == 2)
    }

    /// One node against refusals: each refusal backs off and tries a ballot above the refusing
    /// promise; the eighth gives up as contended.
    @Test func repeatedRefusalsRaiseTheBallotThenAnswerContended() throws {
        let ring = try Ring(nodes: [n1, n2, n3], partitionBits: 6, targetN: 3)
        var node = try TestCluster.makeNode(n1, ring: ring, nowMs: 1_000)
        _ = node.start(nowMs: 1_000)
        let c = try id("contended")
        var now: UInt64 = 1_000
        var effects = node.handle(.client(checkout(Array("cart:1".utf8), c, timeoutMs: 60_000), client: ClientTag(1)), nowMs: now)
        var refusedRound: UInt64 = 0
        for attempt in 1...8 {
            let prepares = effects.compactMap { effect -> (UInt64, Ballot)? in
                if case let .send(.checkoutPrepare(phase, _, ballot), _) = effect { return (phase, ballot) }
                return nil
            }
            try #require(prepares.count == 2, "attempt \(attempt): prepares to n2 and n3, got \(effects)")
            let (phase, ballot) = prepares[0]
            #expect(ballot.node == n1 && ballot.round == refusedRound + 1, "attempt \(attempt): \(ballot)")
            refusedRound = ballot.round + 10
            now += 1
            effects = node.handle(.message(.checkoutVote(id: phase, vote: .refused(promised: Ballot(round: refusedRound, node: n2))),
                                           from: n2), nowMs: now)
            if attempt == 8 {
                #expect(effects.contains(.reply(.rejected(.checkoutContended), client: ClientTag(1))), "\(effects)")
                return
            }
            let retries = effects.compactMap { effect -> (id: UInt64, atMs: UInt64)? in
                if case let .setTimer(.checkoutRetry(id), atMs) = effect { return (id, atMs) }
                return nil
            }
            let retry = try #require(retries.first, "attempt \(attempt): no backoff in \(effects)")
            #expect(retry.atMs > now, "attempt \(attempt)")
            #expect(!effects.contains { isSend($0) }, "attempt \(attempt): nothing sent while backing off")
            // A late vote of the refused phase changes nothing.
            #expect(!node.handle(.message(.checkoutVote(id: phase, vote: .granted(accepted: nil)), from: n3), nowMs: now)
                .contains { isSend($0) })
            now = retry.atMs
            effects = node.handle(.timer(.checkoutRetry(retry.id)), nowMs: now)
        }
    }
}

// MARK: - Interleavings and lost messages

extension CheckoutTests {
    /// Three checkouts with one id, started on all three nodes before any message is delivered,
    /// their messages delivered in a seeded random order (delayed, reordered, a few
    /// duplicated): across all answers and all acceptor states there is at most one order, and
    /// every attempt, retried on a calm network, answers it.
    @Test func concurrentAttemptsWithOneIDDecideOneOrder() throws {
        let name = "concurrentAttemptsWithOneIDDecideOneOrder"
        let base = TestSeed.make(name)
        var tally: [String: Int] = [:]
        for run in 0..<200 {
            let seed = base &+ UInt64(run)
            let context = "seed \(seed) (run \(run)); \(TestSeed.repro(base, name))"
            let cluster = try InterleavingCluster(nodes: 3, seed: seed)
            let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
            for (index, sku) in ["A1", "café", "ü€😀ß"].enumerated() {
                let reply = cluster.call(ClientRequest(key: key, operation: add(sku, Int64(index + 1), id: "fill-\(index)"), w: 3),
                                         at: n1)
                guard case .written? = reply else { Issue.record("fill: \(String(describing: reply)); \(context)"); break }
            }
            guard case let .found(.cart(cart))? = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n2) else {
                Issue.record("read: \(context)"); continue
            }
            let c = try id("same-id")

            cluster.maxDelayMs = 1 + UInt64(cluster.rng.below(40))
            cluster.duplicatePercent = 3
            cluster.slowPercent = cluster.rng.chance(30) ? 3 : 0
            let nodes = [n1, n2, n3]
            let tags = nodes.map { cluster.request(checkout(key, c), at: $0) }
            cluster.runUntil(maxMs: 70_000) { tags.allSatisfy { cluster.replies[$0] != nil } }
            var orders: Set<Order> = []
            for (node, tag) in zip(nodes, tags) {
                let reply = cluster.replies[tag]
                switch reply {
                case let .checkedOut(order, replayed)?:
                    orders.insert(order)
                    tally["checkedOut\(replayed ? " replayed" : "")", default: 0] += 1
                    if replayed && order.coordinator == node { tally["checkedOut replayed by the order's builder", default: 0] += 1 }
                case let .rejected(rejection)?:
                    tally["rejected \(rejection)", default: 0] += 1
                    // `emptyCart` here is the race of aConcurrentAttemptThatReadsTheClearedCartIsNotAnsweredEmpty.
                    #expect(rejection == .checkoutContended || rejection == .emptyCart, "\(node): \(rejection); \(context)")
                case .unavailable?:
                    tally["unavailable", default: 0] += 1
                default:
                    Issue.record("\(node): \(String(describing: reply)); \(context)")
                }
            }
            for (node, state) in try states(cluster.all, c) {
                if let accepted = state.accepted { orders.insert(accepted.order) }
                if let committed = state.committed { orders.insert(committed) }
                #expect(state.checkInvariants() == nil, "\(node); \(context)")
            }
            #expect(orders.count <= 1, "\(orders.count) orders for one id; \(context)")
            if let problem = cluster.problems.first { Issue.record("\(problem); \(context)") }

            // A calm network: each attempt's retry answers the one order.
            cluster.maxDelayMs = 1
            cluster.duplicatePercent = 0
            cluster.slowPercent = 0
            var answers: Set<Order> = orders
            for node in nodes {
                var answer: Order?
                for _ in 0..<5 where answer == nil {
                    if case let .checkedOut(order, _)? = cluster.call(checkout(key, c), at: node) { answer = order }
                }
                guard let answer else { Issue.record("\(node): no order after 5 retries; \(context)"); continue }
                answers.insert(answer)
                #expect(answer.items == cart.view.items, "\(node): the order is the cart as filled; \(context)")
            }
            #expect(answers.count == 1, "\(answers.count) orders after retries; \(context)")
            for (node, state) in try states(cluster.all, c) {
                #expect(state.committed != nil && state.committed == answers.first, "\(node); \(context)")
            }
            guard case let .found(.cart(after))? = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n3) else {
                Issue.record("read after: \(context)"); continue
            }
            #expect(after.view.items.isEmpty, "\(after.view.items.map(\.sku)) left in the cart; \(context)")
        }
        print("concurrent checkouts: \(tally.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
    }

    /// Every `checkoutCommit` is lost: the proposer (an acceptor) stores the decision itself,
    /// the others only accepted it. The attempt ends unavailable, the order is already readable,
    /// the cart still full; a retry through another node completes exactly that order.
    @Test func aCheckoutWhoseCommitsAreLostIsCompletedByARetry() throws {
        let cluster = try InterleavingCluster(nodes: 3, seed: 1)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        for (index, sku) in ["A", "B"].enumerated() {
            _ = cluster.call(ClientRequest(key: key, operation: add(sku, id: "fill-\(index)"), w: 3), at: n1)
        }
        let c = try id("lost-commits")
        cluster.drops = { _, _, message in
            if case .checkoutCommit = message { return true }
            return false
        }
        let reply = cluster.call(checkout(key, c), at: n1)
        guard case let .unavailable(.timedOut(needed, answered, replicas))? = reply else {
            Issue.record("\(String(describing: reply))"); return
        }
        #expect((needed, answered, replicas) == (3, 1, 3), "only n1's own acceptor stored the decision")
        let held = try states(cluster.all, c)
        let decided = try #require(held[n1]?.committed)
        #expect(decided.coordinator == n1 && decided.items.map(\.sku) == ["A", "B"])
        #expect(held[n2]?.committed == nil && held[n3]?.committed == nil)
        #expect(held[n2]?.accepted?.order == decided && held[n3]?.accepted?.order == decided)
        #expect(cluster.call(readOrder(c), at: n3) == .order(decided), "a decision on one acceptor is readable")
        guard case let .found(.cart(full))? = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n2) else {
            Issue.record("read"); return
        }
        #expect(full.view.items.map(\.sku) == ["A", "B"], "not cleared yet")

        cluster.drops = { _, _, _ in false }
        #expect(cluster.call(checkout(key, c), at: n2) == .checkedOut(decided, replayed: true))
        for (node, state) in try states(cluster.all, c) { #expect(state.committed == decided, "\(node)") }
        guard case let .found(.cart(after))? = cluster.call(ClientRequest(key: key, operation: .get, r: 3), at: n3) else {
            Issue.record("read after"); return
        }
        #expect(after.view.items.isEmpty)
        if let problem = cluster.problems.first { Issue.record("\(problem)") }
    }
}

extension CheckoutTests {
    /// The only attempt of an id builds its order, has it accepted by two acceptors and refused
    /// by the third (which promised a higher ballot meanwhile), backs off, finds its own order
    /// accepted and completes it. It built the order, so the answer must not say `replayed`
    /// (`ClientReply.checkedOut`: "`replayed` if the order was decided by an earlier attempt
    /// with the same id (this attempt built no order of its own)").
    @Test func anAttemptThatCompletesItsOwnOrderAfterARefusalIsNotReplayed() throws {
        let cluster = try TestCluster(nodes: 3)
        let key = try fillCart(cluster)
        let c = try id("own-order")
        let tag = cluster.request(checkout(key, c), at: n1)
        var steps = 0
        while try !states(cluster, c).values.allSatisfy({ $0.promised == ballot(1, 1) }) {
            cluster.run(forMs: 1)
            steps += 1
            try #require(steps < 1_000, "never promised")
        }
        // n3 promises a higher ballot (a competing proposer that then went away) before n1's
        // accept reaches it.
        let competing = try cluster.node(n3).storage.checkouts.update(c) { $0.prepare(ballot(1, 99)) }
        #expect(competing == .granted(accepted: nil))
        while cluster.replies[tag] == nil && steps < 10_000 {
            cluster.run(forMs: 1)
            steps += 1
        }
        guard case let .checkedOut(order, replayed)? = cluster.replies[tag] else {
            Issue.record("\(String(describing: cluster.replies[tag]))"); return
        }
        #expect(order.coordinator == n1, "the order n1 built")
        #expect(cluster.node(n1).statistics.checkoutRetries >= 1, "refused once")
        #expect(!replayed, "the attempt that built the order answers replayed: \(replayed)")
    }

    /// Attempt B (n1) has every promise and reads the cart slowly; attempt C (n2) prepares a
    /// higher ballot, reads, decides and clears the cart meanwhile; B's read then finds the cart
    /// empty. The id has an order of this very cart, so B must not answer `emptyCart`
    /// (`RequestRejection.emptyCart`: "when no order was decided for the id before"): a client
    /// whose retry is B would be told its checkout failed although it succeeded.
    @Test func aConcurrentAttemptThatReadsTheClearedCartIsNotAnsweredEmpty() throws {
        let cluster = try InterleavingCluster(nodes: 3, seed: 7)
        let key = cluster.key(prefix: "cart:", replicas: [n1, n2, n3])
        for (index, sku) in ["A", "B"].enumerated() {
            _ = cluster.call(ClientRequest(key: key, operation: add(sku, id: "fill-\(index)"), w: 3), at: n1)
        }
        let c = try id("slow-read")
        // n1's replica reads (its cart read as B's coordinator) take 300 ms.
        cluster.extraDelayMs = { from, _, message in
            if from == NodeID(1), case .read = message { return 300 }
            return 0
        }
        let slow = cluster.request(checkout(key, c), at: n1)
        cluster.runUntil(maxMs: 1_000) { (try? states(cluster.all, c).values.allSatisfy { $0.promised == ballot(1, 1) }) ?? false }
        let fast = cluster.request(checkout(key, c), at: n2)
        cluster.runUntil(maxMs: 10_000) { cluster.replies[slow] != nil && cluster.replies[fast] != nil }
        guard case let .checkedOut(order, false)? = cluster.replies[fast] else {
            Issue.record("C: \(String(describing: cluster.replies[fast]))"); return
        }
        #expect(order.coordinator == n2)
        let answer = cluster.replies[slow]
        #expect(answer == .checkedOut(order, replayed: true), "B answered \(String(describing: answer)) for an id with an order")
        #expect(cluster.call(checkout(key, c), at: n3) == .checkedOut(order, replayed: true))
    }
}

/// A driver for interleavings: every node over its own in-memory engine (as `TestCluster`),
/// each message delayed 1 … `maxDelayMs` ms and events due at the same millisecond run in a
/// seeded random order, a few messages duplicated (`duplicatePercent`), some dropped
/// (`drops`). Problems (a node invariant broken, a client answered twice) are collected in
/// `problems` rather than trapping.
final class InterleavingCluster {
    private(set) var nodes: [NodeID: ClusterNode] = [:]
    let ring: Ring
    private(set) var nowMs: UInt64 = 1_000
    var rng: SeededRandom
    var maxDelayMs: UInt64 = 1
    var duplicatePercent = 0
    /// Messages delayed 200 … 1,200 ms instead (past the replica timeout, often).
    var slowPercent = 0
    var drops: (_ from: NodeID, _ to: NodeID, _ message: ClusterMessage) -> Bool = { _, _, _ in false }
    /// Added to a message's delay.
    var extraDelayMs: (_ from: NodeID, _ to: NodeID, _ message: ClusterMessage) -> UInt64 = { _, _, _ in 0 }
    private(set) var replies: [ClientTag: ClientReply] = [:]
    private(set) var problems: [String] = []
    private var pending: [(at: UInt64, rank: UInt64, node: NodeID, event: NodeEvent)] = []
    private var nextTag: UInt64 = 0

    init(nodes count: Int, seed: UInt64) throws {
        rng = SeededRandom(seed: seed)
        let ids = (1...count).map { NodeID(UInt64($0)) }
        ring = try Ring(nodes: ids, partitionBits: 6, targetN: 3)
        for id in ids {
            var node = try TestCluster.makeNode(id, ring: ring, nowMs: nowMs)
            let effects = node.start(nowMs: nowMs)
            nodes[id] = node
            perform(effects, from: id)
        }
    }

    /// Every node, by id.
    var all: [ClusterNode] { nodes.keys.sorted().map { nodes[$0]! } }

    /// A key whose replicas are `replicas`, in order.
    func key(prefix: String, replicas: [NodeID]) -> [UInt8] { TestCluster.key(in: ring, prefix: prefix, replicas: replicas) }

    @discardableResult
    func request(_ request: ClientRequest, at node: NodeID) -> ClientTag {
        nextTag += 1
        let tag = ClientTag(nextTag)
        enqueue(.client(request, client: tag), to: node, at: nowMs)
        return tag
    }

    /// Runs events in time order until `done` or `maxMs` have passed.
    func runUntil(maxMs: UInt64, _ done: () -> Bool) {
        let end = nowMs + maxMs
        while !done(), let index = nextIndex(), pending[index].at <= end {
            let next = pending.remove(at: index)
            nowMs = max(nowMs, next.at)
            let effects = nodes[next.node]!.handle(next.event, nowMs: nowMs)
            if let problem = nodes[next.node]!.checkInvariants(nowMs: nowMs) { problems.append("\(next.node): \(problem)") }
            perform(effects, from: next.node)
        }
    }

    /// Runs one client request to its reply.
    func call(_ request: ClientRequest, at node: NodeID) -> ClientReply? {
        let tag = self.request(request, at: node)
        runUntil(maxMs: 70_000) { replies[tag] != nil }
        return replies[tag]
    }

    private func nextIndex() -> Int? {
        pending.indices.min { (pending[$0].at, pending[$0].rank) < (pending[$1].at, pending[$1].rank) }
    }

    private func enqueue(_ event: NodeEvent, to node: NodeID, at: UInt64) {
        pending.append((at, rng.next(), node, event))
    }

    private func perform(_ effects: [NodeEffect], from node: NodeID) {
        for effect in effects {
            switch effect {
            case let .send(message, to):
                guard !drops(node, to, message) else { continue }
                let copies = rng.below(100) < duplicatePercent ? 2 : 1
                for _ in 0..<copies {
                    var delay = 1 + UInt64(rng.below(Int(max(1, maxDelayMs))))
                    if rng.below(100) < slowPercent { delay = 200 + UInt64(rng.below(1_000)) }
                    enqueue(.message(message, from: node), to: to, at: nowMs + delay + extraDelayMs(node, to, message))
                }
            case let .setTimer(timer, atMs):
                enqueue(.timer(timer), to: node, at: max(atMs, nowMs))
            case let .reply(reply, client):
                if replies[client] != nil { problems.append("client \(client) answered twice: \(reply)") }
                replies[client] = reply
            }
        }
    }
}
