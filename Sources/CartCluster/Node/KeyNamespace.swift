import CartVersioning

/// A family of keys sharing a prefix, a conflict policy and N (Riak's bucket type with its
/// `n_val`). The same on every node.
public struct KeyNamespace: Hashable, Sendable, CustomStringConvertible {
    /// Keys starting with these bytes belong here (the longest matching prefix wins).
    public var prefix: [UInt8]
    /// How concurrent writes resolve: `.cart` keys take cart operations, the others put/delete.
    public var policy: ConflictPolicy
    /// Replicas per key.
    public var n: Int

    public init(prefix: String, policy: ConflictPolicy, n: Int = 3) {
        self.prefix = Array(prefix.utf8)
        self.policy = policy
        self.n = n
    }

    /// `cart:<user>` keys hold carts.
    public static let carts = KeyNamespace(prefix: "cart:", policy: .cart)
    /// Everything else holds opaque values with siblings.
    public static let opaque = KeyNamespace(prefix: "", policy: .siblings)

    public var description: String { "\"\(String(decoding: prefix, as: UTF8.self))\" \(policy) N=\(n)" }
}
