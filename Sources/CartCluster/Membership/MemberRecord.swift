/// One member as gossip carries it (Cassandra's endpoint state, in one record): who, where,
/// which life, how fresh, in which state.
///
/// Ordering (`supersedes`): a record with a higher `generation` (a later life: the node
/// restarted) supersedes any of a lower one; within one generation, the higher `version`
/// (its heartbeat, bumped by the member itself every gossip round and at every status change)
/// wins. Only the member itself issues its records, so two records with the same
/// (generation, version) are the same record.
///
/// Thread safety: a `Sendable` value type.
public struct MemberRecord: Hashable, Sendable {
    public let node: NodeID
    /// The member's internode address as it advertises it (`host:port`; opaque here).
    public var address: String
    /// The life of the member: its start time in ms (a clock that moves forward across
    /// restarts makes each life's generation higher than the last).
    public var generation: UInt64
    /// The member's heartbeat within its generation.
    public var version: UInt64
    public var status: MemberStatus

    /// Longest address, in bytes.
    public static let addressBytesMax = 256

    public init(node: NodeID, address: String, generation: UInt64, version: UInt64, status: MemberStatus) {
        self.node = node
        self.address = address
        self.generation = generation
        self.version = version
        self.status = status
    }

    /// True if this record is newer than `other` (same member).
    public func supersedes(_ other: MemberRecord) -> Bool {
        (generation, version) > (other.generation, other.version)
    }
}
