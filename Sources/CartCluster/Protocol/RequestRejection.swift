import CartVersioning

/// Why a request was refused before it changed anything: each is the client's mistake (or a
/// key used with the wrong kind of operation), never the cluster's.
public enum RequestRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// R, W or N outside their bounds.
    case invalidQuorum(QuorumParameters.Invalid)
    /// A timeout of 0, or above the node's maximum.
    case invalidTimeout(ms: UInt64, maxMs: UInt64)
    /// A key that is empty or longer than `ReplicaStore.keyBytesMax`.
    case invalidKey(bytes: Int, max: Int)
    /// A cart operation on a key of an opaque namespace, or a put/delete on a cart key.
    case wrongKind(policy: ConflictPolicy)
    /// The cart refused the operation (unknown item, limits, a context it has not seen…).
    case cart(CartOperationError)
    /// The sibling set refused the write (a context naming unseen events, limits…).
    case siblings(SiblingWriteError)
    /// A checkout of a cart with no items (when no order was decided for the id before).
    case emptyCart
    /// A checkout lost to concurrent attempts with the same id until its deadline; retry with
    /// the same id (it yields the order they decide, if any).
    case checkoutContended
    /// The checkout id already names an order of another cart.
    case checkoutIDInUse(CheckoutID)

    public var description: String {
        switch self {
        case let .invalidQuorum(invalid): return "invalid quorum: \(invalid)"
        case let .invalidTimeout(ms, maxMs): return "timeout \(ms) ms outside 1…\(maxMs)"
        case let .invalidKey(bytes, max): return "key of \(bytes) bytes outside 1…\(max)"
        case let .wrongKind(policy): return "operation does not apply to a key with policy \(policy)"
        case let .cart(error): return "cart: \(error)"
        case let .siblings(error): return "siblings: \(error)"
        case .emptyCart: return "the cart is empty"
        case .checkoutContended: return "concurrent attempts with the same checkout id; retry with the same id"
        case let .checkoutIDInUse(id): return "checkout id \(id) already names an order of another cart"
        }
    }
}
