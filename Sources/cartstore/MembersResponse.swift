/// The body of `GET /admin/members`: the answering node and every member it knows.
struct MembersResponse: Decodable, Sendable {
    /// One member as the answering node sees it. Everything but `node` and `status` is
    /// optional, so that the CLI still reads an older server's answer; the gossip fields are
    /// null for a member the node has not heard from.
    struct Member: Decodable, Sendable {
        var node: String
        var http: String?
        var peer: String?
        /// `self`, `up` or `down`: whether the node counts on the member now.
        var status: String
        var connected: Bool?
        /// The failure detector's verdict (itself, or heard from and not judged down).
        var up: Bool?
        /// The gossiped member status: normal, leaving, left or removed.
        var state: String?
        var generation: UInt64?
        var heartbeat: UInt64?
        var address: String?
        var phi: Double?
        var lastHeardAgoMs: UInt64?
    }

    /// The node that answered (the JSON member `self`).
    var selfNode: String?
    var members: [Member]

    enum CodingKeys: String, CodingKey {
        case selfNode = "self"
        case members
    }
}
