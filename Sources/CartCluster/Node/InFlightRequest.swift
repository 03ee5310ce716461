import CartVersioning

/// A client request a node is working on, from intake to its last effect.
///
/// Lifecycle (`stage`): `forwarding` (waiting for the coordinator's reply), or, at the
/// coordinator, `reading` (a GET: answered after R, then listening until every replica was
/// heard from or the replica timeout, then read repair) or `preparing` (a mutation gathering
/// the replicas' records to apply on their join) then `writing` (W durable acks; silent or
/// failing replicas replaced by fallbacks carrying hints). The request leaves the table when
/// its last stage is done or at its deadline; the client is answered exactly once before that
/// (`answered`).
struct InFlightRequest: Sendable {
    /// Who gets the reply.
    enum Origin: Hashable, Sendable {
        case client(ClientTag)
        /// Forwarded by `node` under its id `id`.
        case forwarded(from: NodeID, id: UInt64)
        /// A step of one of this node's checkouts (its cart read or its cart clear), under the
        /// checkout's phase id (`CheckoutProposal.phaseID`).
        case checkout(phase: UInt64)
    }

    enum Stage: Sendable {
        /// Sent to `to` (after `tried`, who never took it); `accepted` once it said so.
        case forwarding(to: NodeID, tried: [NodeID], accepted: Bool)
        case reading(ReadQuorum)
        /// Waiting for the other replicas' records (the coordinator's own is read when it applies).
        case preparing(ReadQuorum)
        case writing(WriteQuorum)
    }

    let origin: Origin
    let request: ClientRequest
    let namespace: KeyNamespace
    let parameters: QuorumParameters
    /// The key's preference list: its first N distinct nodes.
    let primaries: [NodeID]
    let deadlineMs: UInt64
    var stage: Stage
    /// Bumped at every replica-timeout round, so that an older round's timer is ignored.
    var round = 0
    var answered = false
    /// Write stage: each fallback → the primary it stands in for.
    var standsInFor: [NodeID: NodeID] = [:]
    /// Write stage: what was applied (replacements send the same record; the client's reply
    /// carries it once W acks are in).
    var written: Written?

    struct Written: Sendable {
        let record: StoredRecord
        let dot: Dot
        let duplicate: Bool
    }
}
