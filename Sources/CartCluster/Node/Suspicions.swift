/// Which peers this node believes down: a peer that stayed silent past a replica timeout is
/// suspected for `suspicionMs`, and cleared as soon as anything arrives from it. A suspicion
/// that expires lets the peer be tried again (the only probe until gossip's failure detector).
struct Suspicions: Hashable, Sendable {
    let suspicionMs: UInt64
    /// Peer → when it was suspected.
    private var since: [NodeID: UInt64] = [:]

    init(suspicionMs: UInt64) { self.suspicionMs = suspicionMs }

    /// True if `node` is suspected at `nowMs`.
    func isSuspected(_ node: NodeID, nowMs: UInt64) -> Bool {
        guard let at = since[node] else { return false }
        return nowMs < at &+ suspicionMs
    }

    /// `node` was silent; returns true if this is a new suspicion.
    mutating func suspect(_ node: NodeID, nowMs: UInt64) -> Bool {
        let fresh = !isSuspected(node, nowMs: nowMs)
        since[node] = nowMs
        return fresh
    }

    /// Something arrived from `node`.
    mutating func heard(from node: NodeID) {
        since[node] = nil
    }
}
