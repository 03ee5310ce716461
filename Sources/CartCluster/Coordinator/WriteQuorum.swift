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
    public typealias Phase = QuorumPhase

    /// What the client is told.
    public enum Reply: Hashable, Sendable {
        case succeeded(acks: Int)
        case failed(QuorumError)
    }

    private var tally: QuorumTally<Void>

    public init(targets: [NodeID], w: Int) {
        tally = QuorumTally(targets: targets, needed: w)
    }

    /// The nodes the write was sent to.
    public var targets: [NodeID] { tally.targets }
    /// Durable acks needed.
    public var w: Int { tally.needed }
    public var phase: Phase { tally.phase }
    /// The targets that acknowledged.
    public var acks: Set<NodeID> { Set(tally.answers.keys) }
    /// The targets that neither acknowledged nor failed yet.
    public var outstanding: [NodeID] { tally.targets.filter(tally.isPending) }

    /// The reply due before any ack: a failure if `w` cannot be reached at all.
    public mutating func start() -> Reply? { Self.reply(tally.start()) }

    /// The write was also sent to `node` (a fallback for a failed replica).
    public mutating func addTarget(_ node: NodeID) { tally.addTarget(node) }

    /// `node` acknowledged the write durably.
    public mutating func acked(from node: NodeID) -> Reply? { Self.reply(tally.answered((), from: node)) }

    /// `node` answered an error, or is known to be down. Add its fallback first (`addTarget`), or
    /// the write may fail for want of it.
    public mutating func failed(_ node: NodeID) -> Reply? { Self.reply(tally.failed(node)) }

    /// The request's timeout fired.
    public mutating func timedOut() -> Reply? { tally.timedOut().map { .failed($0) } }

    private static func reply(_ outcome: QuorumTally<Void>.Outcome?) -> Reply? {
        switch outcome {
        case nil: return nil
        case let .reached(count)?: return .succeeded(acks: count)
        case let .failed(error)?: return .failed(error)
        }
    }
}
