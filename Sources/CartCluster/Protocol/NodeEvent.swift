/// What a driver (the simulator, or the server's runtime) feeds a `ClusterNode`, with the time
/// it happened. Nothing else reaches the node: it reads no clock and no socket.
public enum NodeEvent: Hashable, Sendable {
    /// A client asked this node; the reply carries `client` back.
    case client(ClientRequest, client: ClientTag)
    /// A peer's message arrived.
    case message(ClusterMessage, from: NodeID)
    /// A timer the node asked for (`NodeEffect.setTimer`) fired. Timers are never cancelled:
    /// one that no longer matters is ignored.
    case timer(NodeTimer)
}

/// The driver's name for a client request, echoed in its reply (an HTTP connection's request,
/// a simulated client's call).
public struct ClientTag: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { "c\(value)" }
}

/// A timer a node set.
public enum NodeTimer: Hashable, Sendable {
    /// A request's deadline: the client is answered by then, whatever else happens.
    case deadline(UInt64)
    /// A request's replicas have had their time (`round` counts the rounds of one request):
    /// silent ones are suspected; a read repairs with what arrived, a write replaces them by
    /// fallbacks.
    case replicaTimeout(UInt64, round: Int)
    /// Time to deliver hints (and drop those past their age).
    case hintDelivery
    /// Time to start an anti-entropy exchange (and forget exchanges past their timeout).
    case antiEntropy
    /// Time to rebuild an unbuilt partition's tree.
    case treeRebuild
    /// Time for a gossip round.
    case gossip
    /// A checkout refused by an acceptor has waited out its backoff: time for its next ballot.
    case checkoutRetry(UInt64)
}
