import CartTestSupport
@testable import CartVersioning

/// The cast of the cart scenario tests: a shopper's phone, laptop and tablet, whose requests
/// three replicas coordinate (`r1`, `r2`, `r3`), and the item they buy.
protocol ThreeDevices {}

extension ThreeDevices {
    /// The phone's coordinator.
    var r1: ReplicaID { Generators.replica(0) }
    /// The laptop's coordinator.
    var r2: ReplicaID { Generators.replica(1) }
    /// The tablet's coordinator.
    var r3: ReplicaID { Generators.replica(2) }
    var mug: CartItemDetails { CartItemDetails(name: "Mug", priceMinor: 1299) }
    var none: CartItemDetails { CartItemDetails() }

    /// The quantity `cart` shows for `sku` (0 if it shows none).
    func q(_ cart: CartState, _ sku: String = "A") -> Int64 { Self.q(cart, sku) }
    static func q(_ cart: CartState, _ sku: String = "A") -> Int64 { cart.item(sku)?.quantity ?? 0 }
    func bytes(_ cart: CartState) throws -> [UInt8] { try RecordCodec.encode(.cart(cart)) }
}
