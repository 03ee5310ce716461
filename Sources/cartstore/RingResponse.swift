/// The body of `GET /admin/ring`: the partition layout and how many partitions each node owns.
struct RingResponse: Decodable, Sendable {
    /// One node's share of the ring.
    struct NodeShare: Decodable, Sendable {
        var node: String
        var partitions: Int
    }

    var partitionBits: Int?
    var partitions: Int
    var replicas: Int?
    var nodes: [NodeShare]
}
