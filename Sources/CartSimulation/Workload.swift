import CartCluster
import CartVersioning

/// The simulated clients' operations. Keys: one counting cart every client adds to (quantities
/// must add up exactly), one cart per pair of clients (two devices, one cart: adds, changes,
/// sets, removes, clears against what the device last read), one checkout cart per pair (adds,
/// checkouts under a few ids the two devices share, so that the same id is retried through
/// different nodes at once and reused later, and reads of those orders), and one opaque key per
/// pair (puts and deletes with the context last read).
struct Workload {
    static let countingCart = Array("cart:counts".utf8)
    static let countingSKUs = ["A", "B", "C", "é"]
    static let pairSKUs = ["x", "y", "z", "ü"]

    static func pairCart(_ pair: Int) -> [UInt8] { Array("cart:u\(pair)".utf8) }
    static func pairKey(_ pair: Int) -> [UInt8] { Array("kv:\(pair)".utf8) }
    static func checkoutCart(_ pair: Int) -> [UInt8] { Array("cart:co\(pair)".utf8) }
    static let checkoutSKUs = ["p", "q", "ř"]
    /// Checkout ids per pair.
    static let checkoutIDsPerPair = 3

    static func checkoutID(pair: Int, _ index: Int) -> CheckoutID {
        do { return try CheckoutID("co\(pair)-\(index)") } catch { preconditionFailure("\(error)") }
    }

    /// One operation a client means to complete (with its retries).
    struct Operation {
        /// Unique over the run.
        let number: Int
        var request: ClientRequest
        var attempts = 0
        /// A reply said it happened (or was refused), so its outcome is known.
        var settled = false
    }

    /// The next operation of `client`, given what it last read of each key.
    static func next(client: Int, number: Int, lastRead: [[UInt8]: StoredRecord], random: inout SimulationRandom,
                     quorumN: Int) -> Operation {
        let pair = client / 2
        let r = random.chance(0.5) ? nil : random.inRange(1...quorumN)
        let w = random.chance(0.5) ? nil : random.inRange(1...quorumN)
        let id = OperationID("op-\(number)")
        let roll = random.below(100)
        let request: ClientRequest
        if roll < 20 {
            let add = CartOperation.add(sku: random.pick(countingSKUs), quantity: Int64(random.inRange(1...3)),
                                        details: CartItemDetails(name: "item", priceMinor: 100))
            request = ClientRequest(key: countingCart, operation: .cart(add, id: id, observed: nil), r: r, w: w)
        } else if roll < 50 {
            let key = pairCart(pair)
            var observed: CausalContext?
            if case let .cart(state)? = lastRead[key] { observed = state.context }
            let sku = random.pick(pairSKUs)
            let operation: CartOperation?
            switch random.below(10) {
            case 0, 1, 2: operation = .add(sku: sku, quantity: Int64(random.inRange(1...2)), details: CartItemDetails(name: sku))
            case 3: operation = .changeQuantity(sku: sku, delta: 1)
            case 4: operation = observed == nil ? nil : .setQuantity(sku: sku, quantity: Int64(random.inRange(0...3)))
            case 5, 6: operation = observed == nil ? nil : .remove(sku: sku)
            case 7: operation = observed == nil ? nil : .clear
            default: operation = nil
            }
            if let operation {
                request = ClientRequest(key: key, operation: .cart(operation, id: id, observed: observed), r: r, w: w)
            } else {
                request = ClientRequest(key: key, operation: .get, r: r)
            }
        } else if roll < 72 {
            let key = checkoutCart(pair)
            let checkout = checkoutID(pair: pair, random.below(checkoutIDsPerPair))
            switch random.below(20) {
            case 0..<10:
                let add = CartOperation.add(sku: random.pick(checkoutSKUs), quantity: Int64(random.inRange(1...2)),
                                            details: CartItemDetails(name: "item", priceMinor: 250))
                request = ClientRequest(key: key, operation: .cart(add, id: id, observed: nil), r: r, w: w)
            case 10..<17:
                request = ClientRequest(key: key, operation: .checkout(checkout))
            default:
                request = ClientRequest(key: checkout.orderKey, operation: .readOrder(checkout))
            }
        } else {
            let key = pairKey(pair)
            var context: VersionVector?
            if case let .siblings(set)? = lastRead[key] { context = set.context }
            switch random.below(10) {
            case 0, 1, 2, 3:
                request = ClientRequest(key: key, operation: .get, r: r)
            case 4:
                request = ClientRequest(key: key, operation: .delete(context: context), w: w)
            default:
                request = ClientRequest(key: key, operation: .put(value: Array("v\(number)".utf8), context: context), w: w)
            }
        }
        return Operation(number: number, request: request)
    }
}
