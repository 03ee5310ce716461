import CartCluster

/// One thing the simulator will do at a simulated time; ties break by scheduling order, so a
/// run is a function of its seed alone.
struct ScheduledAction: Comparable {
    enum Action {
        case deliver(ClusterMessage, from: Int, to: Int)
        case timer(node: Int, incarnation: Int, NodeTimer)
        /// A client's request reaches `node`.
        case arrive(node: Int, ClientRequest, ClientTag)
        /// A reply (nil: the connection was lost) reaches the client.
        case clientReply(ClientTag, ClientReply?)
        /// A client's think time is over.
        case clientWake(Int)
        /// A request's deadline (with slack for the client's own hops) passed.
        case clientDeadline(ClientTag)
        case fault
        case restart(node: Int)
        case crashAndRestart(node: Int)
        case cut(from: Int, to: Int)
        case restore(from: Int, to: Int)
        case background
    }

    let timeMs: UInt64
    let sequence: UInt64
    let action: Action

    static func < (lhs: ScheduledAction, rhs: ScheduledAction) -> Bool {
        (lhs.timeMs, lhs.sequence) < (rhs.timeMs, rhs.sequence)
    }

    static func == (lhs: ScheduledAction, rhs: ScheduledAction) -> Bool {
        (lhs.timeMs, lhs.sequence) == (rhs.timeMs, rhs.sequence)
    }
}
