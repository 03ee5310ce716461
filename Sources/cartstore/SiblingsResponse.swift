/// The body of a `300 Multiple Choices` answer to `GET /v1/kv/{key}`: the concurrent versions
/// of the key and the context that covers them all.
struct SiblingsResponse: Decodable, Sendable {
    /// The replica (node and epoch) that wrote a version.
    struct Replica: Decodable, Sendable {
        var node: String
        var epoch: UInt64?
    }

    /// One concurrent version.
    struct Sibling: Decodable, Sendable {
        var replica: Replica?
        var counter: UInt64?
        var deleted: Bool?
        var timestampMs: UInt64?
        /// The value in standard base64; empty for a deletion.
        var value: String?
    }

    var siblings: [Sibling]
    var context: String?
}
