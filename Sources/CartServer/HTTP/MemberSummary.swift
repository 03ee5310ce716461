import CartCluster

/// One configured member as this node sees it: the member list's addresses, the transport's
/// link, and the gossiped record with the failure detector's opinion (`/admin/members` and the
/// members gauges of `/metrics` both read this, so they agree).
///
/// Two judgements, kept apart:
/// - `up`: the member is alive as far as this node knows: itself, or a member heard from
///   through gossip that the node does not judge down (failure detector or suspicion). A
///   member never heard from is not up: there is no evidence it is alive.
/// - `status` (`self`, `up`, `down`; the field `/admin/members` always had): whether this
///   node counts on the member now: linked to it and not judging it down. A member never
///   heard from counts as up while linked and not suspected (the coordinator tries it).
///
/// Thread safety: a `Sendable` value type, built from one runtime snapshot.
struct MemberSummary: Sendable {
    let member: Member
    /// The gossiped record and the detector's opinion; nil if never heard from.
    let report: MemberReport?
    let isSelf: Bool
    let connected: Bool
    let suspected: Bool

    var up: Bool { isSelf || report?.up == true }

    var status: String {
        if isSelf { return "self" }
        return connected && !suspected && report?.up != false ? "up" : "down"
    }

    /// Every configured member, in the member list's order, as of `snapshot`.
    static func all(members: [Member], node: NodeID, snapshot: NodeRuntime.Snapshot, transport: PeerTransport) -> [MemberSummary] {
        var reports: [NodeID: MemberReport] = [:]
        for report in snapshot.members { reports[report.record.node] = report }
        return members.map { member in
            let isSelf = member.id == node
            return MemberSummary(member: member, report: reports[member.id], isSelf: isSelf,
                                 connected: isSelf || transport.isConnected(to: member.id),
                                 suspected: snapshot.suspected.contains(member.id))
        }
    }
}
