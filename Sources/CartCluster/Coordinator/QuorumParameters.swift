/// N, R and W of a request: N replicas per key (per key namespace, Riak's `n_val`), a read
/// answered after R of them, a write after W durable acks. Validated, since clients and
/// operators choose them: 1 ≤ R ≤ N, 1 ≤ W ≤ N (R = W = N allowed), N ≤ `nMax`.
public struct QuorumParameters: Hashable, Sendable, CustomStringConvertible {
    /// The most replicas a key may have.
    public static let nMax = 16
    /// Defaults: N 3, R 2, W 2 (Dynamo's common configuration).
    public static let `default` = QuorumParameters(validatedN: 3, r: 2, w: 2)

    public let n: Int
    public let r: Int
    public let w: Int

    /// Why a combination is refused.
    public enum Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        case n(Int)
        case r(Int, n: Int)
        case w(Int, n: Int)

        public var description: String {
            switch self {
            case let .n(n): return "N \(n) outside 1…\(QuorumParameters.nMax)"
            case let .r(r, n): return "R \(r) outside 1…N (\(n))"
            case let .w(w, n): return "W \(w) outside 1…N (\(n))"
            }
        }
    }

    public init(n: Int, r: Int, w: Int) throws(Invalid) {
        guard (1...Self.nMax).contains(n) else { throw .n(n) }
        guard (1...n).contains(r) else { throw .r(r, n: n) }
        guard (1...n).contains(w) else { throw .w(w, n: n) }
        self.init(validatedN: n, r: r, w: w)
    }

    private init(validatedN n: Int, r: Int, w: Int) {
        self.n = n
        self.r = r
        self.w = w
    }

    public var description: String { "N=\(n) R=\(r) W=\(w)" }
}
