/// One member as this node sees it, for `/admin/members`: the gossiped record and the failure
/// detector's opinion.
///
/// Thread safety: a `Sendable` value type.
public struct MemberReport: Hashable, Sendable {
    public let record: MemberRecord
    /// The detector's phi now (nil: never heard from; this node's own entry has none).
    public let phi: Double?
    /// False if the detector judges the member down.
    public let up: Bool
    /// When its last new heartbeat arrived here (node clock, ms).
    public let lastHeardMs: UInt64?
}
