/// One write in flight at its coordinator (Riak's put FSM, as a value): the record was sent to
/// every replica; the client is answered once W of them have acknowledged it durably, or as
/// soon as W can no longer be reached.
///
/// Sans-I/O: the coordinator feeds it acks and failures and acts on what it returns.
///
/// Lifecycle (`phase`): `collecting` until the client is answered, then `answered` while acks may
/// still arrive, then `done` (every target heard from, or a timeout). Exactly one client reply
/// is ever returned; duplicate acks and acks from nodes the write was not sent to are ignored.
/// A fallback node that takes the write for a down replica (sloppy quorum) is added with
/// `addTarget` and its ack counts toward W, as in Dynamo (Voldemort does not count them).
public struct WriteQuorum: Sendable {
    public enum Phase: Hashable, Sendable { case collecting, answered, done }

    /// What the client is told.
    public enum Reply: Hashable, Sendable {
        case succeeded(acks: Int)
        case failed(QuorumError)
    }

    /// The nodes the write was sent to.
    public private(set) var targets: [NodeID]
    /// Durable acks needed.
    public let w: Int
    public private(set) var phase: Phase = .collecting
    public private(set) var acks: Set<NodeID> = []
    private var failures: Set<NodeID> = []

    public init(targets: [NodeID], w: Int) {
        self.targets = targets
        self.w = w
    }

    /// The reply due before any ack: a failure if `w` cannot be reached at all.
    public mutating func start() -> Reply? { decide() }

    /// The write was also sent to `node` (a fallback for a failed replica).
    public mutating func addTarget(_ node: NodeID) {
        guard phase != .done, !targets.contains(node) else { return }
        targets.append(node)
    }

    /// `node` acknowledged the write durably.
    public mutating func acked(from node: NodeID) -> Reply? {
        guard isPending(node) else { return nil }
        acks.insert(node)
        return decide()
    }

    /// `node` answered an error, or is known to be down. Add its fallback first (`addTarget`), or
    /// the write may fail for want of it.
    public mutating func failed(_ node: NodeID) -> Reply? {
        guard isPending(node) else { return nil }
        failures.insert(node)
        return decide()
    }

    /// The request's timeout fired.
    public mutating func timedOut() -> Reply? {
        defer { phase = .done }
        guard phase == .collecting else { return nil }
        return .failed(.timedOut(needed: w, answered: acks.count, replicas: targets.count))
    }

    /// The targets that neither acknowledged nor failed yet.
    public var outstanding: [NodeID] { targets.filter { !acks.contains($0) && !failures.contains($0) } }

    private func isPending(_ node: NodeID) -> Bool {
        phase != .done && targets.contains(node) && !acks.contains(node) && !failures.contains(node)
    }

    private mutating func decide() -> Reply? {
        let heard = acks.count + failures.count
        defer { if phase == .answered, heard == targets.count { phase = .done } }
        guard phase == .collecting else { return nil }
        if acks.count >= w {
            phase = .answered
            return .succeeded(acks: acks.count)
        }
        if targets.count - failures.count < w {
            phase = .answered
            return .failed(.unreachable(needed: w, answered: acks.count, failed: failures.count, replicas: targets.count))
        }
        return nil
    }
}
