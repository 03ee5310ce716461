import CartVersioning

/// What a checkout decides: the cart's visible items at the moment it was read from all N
/// replicas, under the checkout's id. Once one order is chosen for an id (`CheckoutAcceptor`),
/// every attempt with that id answers it, and no other.
///
/// `context` is the causal context of the cart read: the clear that completes the checkout
/// observes exactly it, so it removes the ordered units and nothing added concurrently (a
/// shopper who adds an item on a phone while checking out on a laptop keeps that item).
///
/// Invariants (checked by the decoder, `OrderCodec`): at least one item; items strictly
/// ascending by SKU bytes, each with a quantity of at least 1 and a price of at least 0.
///
/// Thread safety: a `Sendable` value type.
public struct Order: Hashable, Sendable {
    public let checkoutID: CheckoutID
    /// The cart's key (`cart:` ‖ user).
    public let cartKey: [UInt8]
    /// The ordered items, ascending by SKU bytes.
    public let items: [CartItem]
    /// The context of the cart read the items come from.
    public let context: CausalContext
    /// When the proposer built the order, in ms since the Unix epoch (its clock).
    public let createdMs: UInt64
    /// The node that built it.
    public let coordinator: NodeID

    public init(checkoutID: CheckoutID, cartKey: [UInt8], items: [CartItem], context: CausalContext,
                createdMs: UInt64, coordinator: NodeID) {
        self.checkoutID = checkoutID
        self.cartKey = cartKey
        self.items = items
        self.context = context
        self.createdMs = createdMs
        self.coordinator = coordinator
    }

    /// Sum of quantity × unit price, in minor units; saturates at `Int64.max`.
    public var totalMinor: Int64 {
        var total: Int64 = 0
        for item in items {
            let (line, overflow) = item.quantity.multipliedReportingOverflow(by: item.priceMinor)
            let (sum, overflowed) = total.addingReportingOverflow(line)
            if overflow || overflowed { return .max }
            total = sum
        }
        return total
    }
}
