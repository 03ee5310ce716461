import CartVersioning

/// One read in flight at its coordinator (Riak's get FSM, as a value): every replica of the
/// preference list was asked; the client is answered once R of them have answered, with the
/// join of their records, and the read goes on collecting until every replica has answered or
/// failed (or the coordinator gives up on it), so that read repair knows who is behind.
///
/// Sans-I/O: the coordinator feeds it what arrived and acts on what it returns; it reads no
/// clock and sends nothing.
///
/// Lifecycle (`phase`): `collecting` until the client is answered (R answers: `.found` or
/// `.notFound`; or R can no longer be reached: `.failed`), then `answered` while the remaining
/// replicas may still answer, then `done` (every replica heard from, or `finish()`). Exactly one
/// client reply is ever returned. Answers from a node that is not a replica of the read, or a
/// second answer from one, are ignored (the network duplicates).
public struct ReadQuorum: Sendable {
    public typealias Phase = QuorumPhase

    /// What the client is told.
    public enum Reply: Hashable, Sendable {
        case found(StoredRecord)
        case notFound
        case failed(QuorumError)
    }

    /// The join of every record received so far (nil: none found).
    public private(set) var merged: StoredRecord?
    /// Each answering replica's record (nil: it holds nothing for the key).
    private var tally: QuorumTally<StoredRecord?>

    /// A read of `replicas` answered after `r` of them. If there are fewer replicas than `r`
    /// (a ring with fewer nodes than N), `start()` fails it at once.
    public init(replicas: [NodeID], r: Int) {
        tally = QuorumTally(targets: replicas, needed: r)
    }

    /// The replicas asked (the preference list's first N distinct healthy nodes).
    public var replicas: [NodeID] { tally.targets }
    /// Answers needed before the client is answered.
    public var r: Int { tally.needed }
    public var phase: Phase { tally.phase }
    /// True if an answer from `node` would still count.
    public func isPending(_ node: NodeID) -> Bool { tally.isPending(node) }

    /// The reply due before any answer: a failure if `r` cannot be reached at all.
    public mutating func start() -> Reply? {
        return Self.reply(tally.start(), merged: merged)
    }

    /// `node` answered with `record` (nil: it holds nothing for the key). A record that does not
    /// merge with the others (a cart against opaque siblings: misconfiguration or corruption)
    /// counts as a failure of that replica.
    public mutating func received(_ record: StoredRecord?, from node: NodeID) -> Reply? {
        guard tally.isPending(node) else { return nil }
        if let record {
            if let current = merged {
                guard let joined = current.merging(record) else { return failed(node) }
                merged = joined
            } else {
                merged = record
            }
        }
        return Self.reply(tally.answered(record, from: node), merged: merged)
    }

    /// `node` answered an error, or is known to be down.
    public mutating func failed(_ node: NodeID) -> Reply? {
        return Self.reply(tally.failed(node), merged: merged)
    }

    /// The request's timeout fired: a read still waiting for R fails; one already answered is
    /// done (replicas that have not answered are repaired as stale).
    public mutating func timedOut() -> Reply? {
        tally.timedOut().map { .failed($0) }
    }

    /// Stops collecting (the coordinator's repair deadline).
    public mutating func finish() {
        tally.finish()
    }

    /// The replicas that should receive `merged` by read repair: those that answered something
    /// it strictly extends (or nothing), failed, or never answered. Empty before the client was
    /// answered successfully, or if nothing was found.
    public var repairTargets: [NodeID] {
        guard tally.phase != .collecting, let merged, tally.answers.count >= r else { return [] }
        return replicas.filter { node in
            guard let answer = tally.answers[node], let record = answer else { return true }
            return record != merged
        }
    }

    /// Static, so that the reply reads only what it is given (a method's `self` is captured
    /// before its arguments, which mutate the tally, are evaluated).
    private static func reply(_ outcome: QuorumTally<StoredRecord?>.Outcome?, merged: StoredRecord?) -> Reply? {
        switch outcome {
        case nil: return nil
        case .reached?: return merged.map { .found($0) } ?? .notFound
        case let .failed(error)?: return .failed(error)
        }
    }
}
