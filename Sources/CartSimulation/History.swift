import CartCluster
import CartVersioning

/// What the clients asked and were told, and the end-of-run checks of the final state against
/// it (the oracle). Final records are the join of every replica of a key, read from their
/// stores once every node is up and every hint is delivered.
struct History {
    struct CartRecord {
        let key: [UInt8]
        let operation: CartOperation
        let id: OperationID
        let observed: CausalContext?
        var reportedDots: Set<Dot> = []
        var acknowledged = false
    }

    struct RawWrite {
        let key: [UInt8]
        let context: VersionVector?
        var dot: Dot?
    }

    private(set) var cartOperations: [CartRecord] = []
    private var cartIndex: [OperationID: Int] = [:]
    private(set) var rawWrites: [Int: RawWrite] = [:]
    private var nextRaw = 0
    /// Acknowledged results, for the report.
    private(set) var acknowledged = 0
    /// The order each checkout id was answered with (by a checkout) or read as; acknowledged:
    /// answered by a checkout.
    private(set) var orders: [CheckoutID: Order] = [:]
    private(set) var acknowledgedCheckouts: Set<CheckoutID> = []
    /// Violations seen as replies arrived (two orders for one id).
    private(set) var immediateProblems: [String] = []

    /// Records an attempt; returns a handle for its reply (raw writes are one write per attempt).
    mutating func attempted(_ request: ClientRequest) -> Int? {
        switch request.operation {
        case let .cart(operation, id, observed):
            if cartIndex[id] == nil {
                cartIndex[id] = cartOperations.count
                cartOperations.append(CartRecord(key: request.key, operation: operation, id: id, observed: observed))
            }
            return nil
        case let .put(_, context), let .delete(context):
            nextRaw += 1
            rawWrites[nextRaw] = RawWrite(key: request.key, context: context)
            return nextRaw
        case .get, .checkout, .readOrder:
            return nil
        }
    }

    mutating func replied(_ request: ClientRequest, raw: Int?, reply: ClientReply) {
        switch (request.operation, reply) {
        case let (.checkout(id), .checkedOut(order, _)):
            acknowledged += 1
            acknowledgedCheckouts.insert(id)
            seen(order, for: id, by: "checkout")
            if order.cartKey != request.key {
                immediateProblems.append("checkout \(id) of \(Self.name(request.key)) answered an order of \(Self.name(order.cartKey))")
            }
        case let (.readOrder(id), .order(order)):
            seen(order, for: id, by: "order read")
        default:
            break
        }
        guard case let .written(_, dot, _, _) = reply else { return }
        acknowledged += 1
        if case let .cart(_, id, _) = request.operation, let index = cartIndex[id] {
            cartOperations[index].reportedDots.insert(dot)
            cartOperations[index].acknowledged = true
        } else if let raw {
            rawWrites[raw]?.dot = dot
        }
    }

    private mutating func seen(_ order: Order, for id: CheckoutID, by whom: String) {
        if order.checkoutID != id { immediateProblems.append("\(whom) of \(id) answered the order of \(order.checkoutID)") }
        guard let known = orders[id] else { return orders[id] = order }
        if known != order {
            immediateProblems.append("checkout \(id): a \(whom) answered a second order (created \(order.createdMs) by "
                                     + "\(order.coordinator), first seen created \(known.createdMs) by \(known.coordinator))")
        }
    }

    static func name(_ key: [UInt8]) -> String { String(decoding: key, as: UTF8.self) }

    // MARK: - Checks

    /// Every violation found in `finals` (key → joined record of all its replicas).
    /// `decided`: every order committed at any acceptor, by checkout id.
    func check(_ finals: [[UInt8]: StoredRecord], decided: [CheckoutID: Order] = [:]) -> [String] {
        var problems: [String] = immediateProblems
        var byKey: [[UInt8]: [CartRecord]] = [:]
        for record in cartOperations { byKey[record.key, default: []].append(record) }
        for key in byKey.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let name = String(decoding: key, as: UTF8.self)
            var state = CartState()
            if let final = finals[key] {
                guard case let .cart(cart) = final else { problems.append("\(name): not a cart"); continue }
                state = cart
            }
            let operations = byKey[key] ?? []
            if key == Workload.countingCart {
                problems += Self.checkCounting(name, operations, state)
            } else if name.hasPrefix("cart:co") {
                problems += Self.checkCheckoutCart(name, operations, state, orders: decided.values.filter { $0.cartKey == key })
            } else {
                problems += Self.checkPairCart(name, operations, state)
            }
        }
        problems += checkRaw(finals)
        return problems
    }

    private static func dots(_ record: CartRecord, in state: CartState) -> Set<Dot> {
        record.reportedDots.union(state.applications(of: record.id))
    }

    /// Acknowledged adds all count, each exactly once (retries included): the quantity of each
    /// SKU is the sum of the adds applied.
    private static func checkCounting(_ name: String, _ operations: [CartRecord], _ state: CartState) -> [String] {
        var problems: [String] = []
        var expected: [String: Int64] = [:]
        for record in operations {
            guard case let .add(sku, quantity, _) = record.operation else { continue }
            let applied = !state.applications(of: record.id).isEmpty
            if record.acknowledged && !applied {
                problems.append("\(name): acknowledged \(record.id) (add \(quantity) \(sku)) is not in the final state")
            }
            if applied { expected[sku, default: 0] += quantity }
        }
        for sku in Workload.countingSKUs {
            let have = state.item(sku)?.quantity ?? 0
            if have != expected[sku, default: 0] {
                problems.append("\(name): \(sku) has \(have), the applied adds sum to \(expected[sku, default: 0])")
            }
        }
        return problems
    }

    /// A checkout cart (adds only, and checkouts): no applied unit is lost (each is still in
    /// the cart or in a decided order), and the units a decided order observed are gone from
    /// the cart (its clear ran: every decided order is retried until answered).
    private static func checkCheckoutCart(_ name: String, _ operations: [CartRecord], _ state: CartState,
                                          orders: [Order]) -> [String] {
        var problems: [String] = []
        for sku in Workload.checkoutSKUs {
            var applied: Int64 = 0
            var adds: [(units: Int64, dots: Set<Dot>)] = []
            for record in operations {
                guard case let .add(s, quantity, _) = record.operation, s == sku else { continue }
                let applications = Set(state.applications(of: record.id))
                if record.acknowledged && applications.isEmpty {
                    problems.append("\(name): acknowledged \(record.id) (add \(quantity) \(sku)) is not in the final state")
                }
                guard !applications.isEmpty else { continue }
                applied += quantity
                adds.append((quantity, dots(record, in: state)))
            }
            let have = state.item(sku)?.quantity ?? 0
            let ordered = orders.reduce(Int64(0)) { sum, order in
                sum + (order.items.first { $0.sku == sku }?.quantity ?? 0)
            }
            if have + ordered < applied {
                problems.append("\(name): \(sku) lost units: \(have) in the cart + \(ordered) ordered < \(applied) added")
            }
            for order in orders {
                let unobserved = adds.filter { !$0.dots.allSatisfy { order.context.contains($0) } }.reduce(Int64(0)) { $0 + $1.units }
                if have > unobserved {
                    problems.append("\(name): \(sku) has \(have) after order \(order.checkoutID) cleared what it observed; "
                                    + "only \(unobserved) units were added outside its context")
                }
            }
        }
        return problems
    }

    /// No acknowledged add is lost except to a removal that observed it; a removed item stays
    /// removed unless something re-added it that the removal did not observe.
    private static func checkPairCart(_ name: String, _ operations: [CartRecord], _ state: CartState) -> [String] {
        var problems: [String] = []
        for record in operations where record.acknowledged && state.applications(of: record.id).isEmpty {
            problems.append("\(name): acknowledged \(record.id) (\(record.operation)) is not in the final state")
        }
        let applied = operations.filter { $0.acknowledged || !state.applications(of: $0.id).isEmpty }
        for sku in Workload.pairSKUs {
            var adds: [CartRecord] = []
            var removals: [CartRecord] = []
            for record in applied {
                switch record.operation {
                case let .add(s, _, _) where s == sku, let .changeQuantity(s, _) where s == sku:
                    adds.append(record)
                case let .setQuantity(s, quantity) where s == sku:
                    removals.append(record)
                    if quantity > 0 { adds.append(record) }
                case let .remove(s) where s == sku:
                    removals.append(record)
                case .clear:
                    removals.append(record)
                default:
                    break
                }
            }
            let have = state.item(sku)?.quantity ?? 0
            // A removal took an add's units if it observed any application of it (a retry
            // applied at two coordinators counts its units once); a set stays unless the
            // removal observed every application of it (data-format.md: "sets, details and
            // removals of both stay").
            func observes(_ removal: CartRecord, _ add: CartRecord) -> Bool {
                guard let observed = removal.observed else { return true }
                let applications = dots(add, in: state)
                if case .setQuantity = add.operation { return applications.allSatisfy { observed.contains($0) } }
                return applications.contains { observed.contains($0) }
            }
            // Adds no removal observed: their units are all there.
            var unobserved: Int64 = 0
            for add in adds {
                var units: Int64 = 0
                switch add.operation {
                case let .add(_, quantity, _): units = quantity
                case let .changeQuantity(_, delta): units = delta
                default: continue
                }
                guard add.acknowledged, !removals.contains(where: { observes($0, add) }) else { continue }
                unobserved += units
            }
            if have < unobserved {
                problems.append("\(name): \(sku) has \(have), but acknowledged adds no removal observed sum to \(unobserved)")
            }
            // A removal that observed every add: the item is gone.
            for removal in removals {
                if case let .setQuantity(_, quantity) = removal.operation, quantity > 0 { continue }
                if adds.allSatisfy({ $0.id == removal.id || observes(removal, $0) }), have != 0 {
                    problems.append("\(name): \(sku) came back (\(have)) after \(removal.id) (\(removal.operation)) observed every add")
                    break
                }
            }
        }
        return problems
    }

    /// Every acknowledged raw write is known to the final state, and still there unless a later
    /// write's context superseded it.
    private func checkRaw(_ finals: [[UInt8]: StoredRecord]) -> [String] {
        var problems: [String] = []
        for handle in rawWrites.keys.sorted() {
            guard let write = rawWrites[handle], let dot = write.dot else { continue }
            let name = String(decoding: write.key, as: UTF8.self)
            guard case let .siblings(set)? = finals[write.key] else {
                problems.append("\(name): acknowledged write \(dot) but the key holds no sibling set")
                continue
            }
            guard set.context.contains(dot) else {
                problems.append("\(name): acknowledged write \(dot) is unknown to the final state")
                continue
            }
            if !set.versions.contains(where: { $0.dot == dot }) {
                let superseded = rawWrites.values.contains { $0.key == write.key && ($0.context?.contains(dot) ?? false) }
                if !superseded { problems.append("\(name): acknowledged write \(dot) vanished, though no write superseded it") }
            }
        }
        return problems
    }
}
