/// Where a request in flight stands (`ReadQuorum`, `WriteQuorum`): `collecting` until the client
/// is answered, `answered` while the remaining targets may still be heard from, `done` once every
/// target was heard from, or the coordinator gave up.
public enum QuorumPhase: Hashable, Sendable { case collecting, answered, done }

/// The counting both quorums share: which targets answered (with what) or failed, whether
/// `needed` answers are reached or out of reach, and the lifecycle. Exactly one outcome is ever
/// returned; a second word from a target, a word from a node that is not a target, and anything
/// after `done` are ignored.
struct QuorumTally<Answer: Sendable>: Sendable {
    /// What the caller turns into its client reply.
    enum Outcome {
        /// `needed` answers arrived (this many).
        case reached(answers: Int)
        case failed(QuorumError)
    }

    private(set) var targets: [NodeID]
    let needed: Int
    private(set) var phase: QuorumPhase = .collecting
    private(set) var answers: [NodeID: Answer] = [:]
    private(set) var failures: Set<NodeID> = []

    init(targets: [NodeID], needed: Int) {
        self.targets = targets
        self.needed = needed
    }

    /// True if a word from `node` still counts.
    func isPending(_ node: NodeID) -> Bool {
        phase != .done && targets.contains(node) && answers[node] == nil && !failures.contains(node)
    }

    /// The outcome due before anything was heard: a failure if there are fewer targets than needed.
    mutating func start() -> Outcome? { decide() }

    mutating func addTarget(_ node: NodeID) {
        guard phase != .done, !targets.contains(node) else { return }
        targets.append(node)
    }

    /// Records `answer` from a pending `node` (see `isPending`).
    mutating func answered(_ answer: Answer, from node: NodeID) -> Outcome? {
        guard isPending(node) else { return nil }
        answers[node] = answer
        return decide()
    }

    /// Records the failure of a pending `node`.
    mutating func failed(_ node: NodeID) -> Outcome? {
        guard isPending(node) else { return nil }
        failures.insert(node)
        return decide()
    }

    /// The timeout fired: a failure if still collecting; done either way.
    mutating func timedOut() -> QuorumError? {
        defer { phase = .done }
        guard phase == .collecting else { return nil }
        return .timedOut(needed: needed, answered: answers.count, replicas: targets.count)
    }

    /// Stops listening once the client was answered.
    mutating func finish() {
        if phase == .answered { phase = .done }
    }

    private mutating func decide() -> Outcome? {
        let heard = answers.count + failures.count
        defer { if phase == .answered, heard == targets.count { phase = .done } }
        guard phase == .collecting else { return nil }
        if answers.count >= needed {
            phase = .answered
            return .reached(answers: answers.count)
        }
        if targets.count - failures.count < needed {
            phase = .answered
            return .failed(.unreachable(needed: needed, answered: answers.count, failed: failures.count, replicas: targets.count))
        }
        return nil
    }
}
