@testable import CartSimulation
import CartCluster
import CartVersioning
import Testing

/// The simulator's oracle must fail on the states it exists to reject; otherwise a clean run
/// proves nothing.
@Suite("Simulator oracle")
struct HistoryTests {
    let a = ReplicaID(node: 1, epoch: 1)
    let b = ReplicaID(node: 2, epoch: 1)

    func add(_ sku: String, _ quantity: Int64) -> CartOperation {
        .add(sku: sku, quantity: quantity, details: CartItemDetails(name: sku))
    }

    /// Records `operation` as sent with `observed`, applied to `state` at `replica`, and
    /// acknowledged.
    func perform(_ operation: CartOperation, id: String, key: [UInt8], observed: CausalContext?, on state: inout CartState,
                 at replica: ReplicaID, history: inout History) throws {
        let request = ClientRequest(key: key, operation: .cart(operation, id: OperationID(id), observed: observed))
        _ = history.attempted(request)
        let outcome = try state.apply(operation, id: OperationID(id), at: replica, issuedCounter: state.context.highestCounter(of: replica),
                                      nowMs: 1, observed: observed)
        guard case let .applied(dot) = outcome else { Issue.record("not applied"); return }
        history.replied(request, raw: nil, reply: .written(record: .cart(state), dot: dot, duplicate: false, acks: 2))
    }

    @Test("counting cart: exact sums pass; a lost or doubled add fails")
    func countingCart() throws {
        var history = History()
        var state = CartState()
        let key = Workload.countingCart
        try perform(add("A", 2), id: "op-1", key: key, observed: nil, on: &state, at: a, history: &history)
        var other = CartState()
        try perform(add("A", 3), id: "op-2", key: key, observed: nil, on: &other, at: b, history: &history)
        let joined = state.merging(other)
        #expect(history.check([key: .cart(joined)]).isEmpty)
        // A final state that lost op-2.
        #expect(!history.check([key: .cart(state)]).isEmpty)
        // A final state where op-1 counted twice (applied again as a new operation).
        var doubled = joined
        try doubled.apply(add("A", 2), id: OperationID("op-x"), at: a, issuedCounter: doubled.context.highestCounter(of: a), nowMs: 2)
        #expect(!history.check([key: .cart(doubled)]).isEmpty)
    }

    @Test("pair cart: a removal that observed every add keeps the item gone; an unobserved add survives")
    func pairCart() throws {
        let key = Workload.pairCart(0)
        var history = History()
        var state = CartState()
        try perform(add("x", 1), id: "op-1", key: key, observed: nil, on: &state, at: a, history: &history)
        let seen = state.context
        try perform(.remove(sku: "x"), id: "op-2", key: key, observed: seen, on: &state, at: a, history: &history)
        #expect(history.check([key: .cart(state)]).isEmpty)
        // The item back after the removal that observed its only add: caught.
        var resurrected = state
        try resurrected.apply(add("x", 1), id: OperationID("op-ghost"), at: b, issuedCounter: 0, nowMs: 3)
        #expect(history.check([key: .cart(resurrected)]).contains { $0.contains("came back") })

        // An add the removal did not observe must survive.
        var second = History()
        var left = CartState()
        try perform(add("y", 1), id: "op-1", key: key, observed: nil, on: &left, at: a, history: &second)
        var right = left
        try perform(add("y", 2), id: "op-3", key: key, observed: nil, on: &right, at: b, history: &second)
        try perform(.remove(sku: "y"), id: "op-2", key: key, observed: left.context, on: &left, at: a, history: &second)
        #expect(second.check([key: .cart(left.merging(right))]).isEmpty)
        #expect(!second.check([key: .cart(left)]).isEmpty, "the final state lost op-3, which no removal observed")
    }

    @Test("raw keys: an acknowledged write must be known to the final state")
    func rawKeys() throws {
        let key = Workload.pairKey(0)
        var history = History()
        var set = SiblingSet()
        let request = ClientRequest(key: key, operation: .put(value: [1], context: nil))
        let handle = history.attempted(request)
        let outcome = try set.write(Sibling(value: [1], timestampMs: 1), context: VersionVector(), at: a, issuedCounter: 0)
        history.replied(request, raw: handle, reply: .written(record: .siblings(set), dot: outcome.dot, duplicate: false, acks: 2))
        #expect(history.check([key: .siblings(set)]).isEmpty)
        #expect(!history.check([key: .siblings(SiblingSet())]).isEmpty)
        #expect(!history.check([:]).isEmpty)
    }
}
