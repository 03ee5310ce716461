/// What a `ClusterNode` asks its driver to do, in order.
public enum NodeEffect: Hashable, Sendable {
    /// Send `message` to `to` (best effort: the network may lose, delay or duplicate it).
    case send(ClusterMessage, to: NodeID)
    /// Deliver `NodeEvent.timer(timer)` at `atMs` (or as soon after as the driver can).
    case setTimer(NodeTimer, atMs: UInt64)
    /// Answer the client `client`.
    case reply(ClientReply, client: ClientTag)
}
