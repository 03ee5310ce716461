/// What one node knows of every member: the newest `MemberRecord` it has seen of each.
///
/// Merging is a join (commutative, associative, idempotent): per member, the record that
/// supersedes the other is kept, so two nodes that saw the same records hold the same view in
/// whatever order they saw them, and gossip converges.
///
/// Thread safety: a `Sendable` value type.
public struct MembershipView: Hashable, Sendable {
    public private(set) var records: [NodeID: MemberRecord] = [:]

    public init(_ records: [MemberRecord] = []) {
        for record in records { _ = merge(record) }
    }

    public subscript(_ node: NodeID) -> MemberRecord? { records[node] }

    /// Every record, ascending by node id.
    public var sorted: [MemberRecord] { records.values.sorted { $0.node < $1.node } }

    /// Keeps `record` if it supersedes what is held; returns true if it did.
    @discardableResult
    public mutating func merge(_ record: MemberRecord) -> Bool {
        if let held = records[record.node], !record.supersedes(held) { return false }
        records[record.node] = record
        return true
    }

    /// The records of this view that `other` lacks or holds older, ascending by node id.
    public func newer(than other: [MemberRecord]) -> [MemberRecord] {
        var theirs: [NodeID: MemberRecord] = [:]
        for record in other { theirs[record.node] = record }
        return sorted.filter { mine in theirs[mine.node].map { mine.supersedes($0) } ?? true }
    }

    /// The view without heartbeats: each member's (generation, status), for checking that two
    /// views agree on the cluster's shape (heartbeats always move on).
    public var shape: [NodeID: [UInt64]] {
        records.mapValues { [$0.generation, UInt64($0.status.rawValue)] }
    }
}
