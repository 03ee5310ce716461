/// The body of `GET /admin/members`: the answering node and every member it knows.
struct MembersResponse: Decodable, Sendable {
    /// One member as the answering node sees it.
    struct Member: Decodable, Sendable {
        var node: String
        var http: String?
        var peer: String?
        var status: String
        var connected: Bool?
    }

    /// The node that answered (the JSON member `self`).
    var selfNode: String?
    var members: [Member]

    enum CodingKeys: String, CodingKey {
        case selfNode = "self"
        case members
    }
}
