import CartVersioning

/// What a client asks any node for. The node coordinates it or forwards it to the key's
/// coordinator; either way the client gets exactly one `ClientReply` by the request's deadline.
///
/// Thread safety: a `Sendable` value type.
public struct ClientRequest: Hashable, Sendable {
    /// What to do with the key.
    public enum Operation: Hashable, Sendable {
        /// Read the key: every replica is asked, the join of R answers is returned.
        case get
        /// Store `value` as a new version of an opaque key, superseding what `context` covers
        /// (nil or empty: a blind write, a sibling of everything stored).
        case put(value: [UInt8], context: VersionVector?)
        /// Delete an opaque key: a tombstone version superseding what `context` covers.
        case delete(context: VersionVector?)
        /// Apply a cart operation, identified by `id` end to end (a retry with the same id,
        /// through any node, applies once), relative to `observed` (see `CartState.apply`).
        case cart(CartOperation, id: OperationID, observed: CausalContext?)
        /// Check the cart at `key` out under `id` (strongly consistent; see
        /// `ClusterNode+Checkout`): read it from all N replicas, decide one order for the id
        /// among the N replicas of its order key, then clear what was ordered from the cart
        /// with W = N. Any node coordinates it where it arrives; R and W are ignored.
        case checkout(CheckoutID)
        /// Read the order decided for `id` (`key` is `id.orderKey`).
        case readOrder(CheckoutID)
    }

    public var key: [UInt8]
    public var operation: Operation
    /// Replicas that must answer a read (and that a mutation waits for before it applies);
    /// nil: the node's default.
    public var r: Int?
    /// Durable acks a mutation waits for; nil: the node's default.
    public var w: Int?
    /// How long the client waits at most; nil: the node's default. Bounded by the node's maximum.
    public var timeoutMs: UInt64?

    public init(key: [UInt8], operation: Operation, r: Int? = nil, w: Int? = nil, timeoutMs: UInt64? = nil) {
        self.key = key
        self.operation = operation
        self.r = r
        self.w = w
        self.timeoutMs = timeoutMs
    }

    /// True for every operation but `get` and `readOrder`.
    public var isMutation: Bool {
        switch operation {
        case .get, .readOrder: return false
        case .put, .delete, .cart, .checkout: return true
        }
    }
}
