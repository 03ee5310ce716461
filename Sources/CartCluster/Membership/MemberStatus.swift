/// A member's state as the cluster gossips it (the failure detector's up/down is each node's
/// own opinion and is not gossiped). Raw values are on the wire: never renumber.
public enum MemberStatus: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Serving its ranges.
    case normal = 1
    /// Handing its ranges to the others before it goes.
    case leaving = 2
    /// Gone after handing its ranges away.
    case left = 3
    /// Declared dead by an operator; its ranges are re-replicated from the survivors.
    case removed = 4

    public var description: String {
        switch self {
        case .normal: return "normal"
        case .leaving: return "leaving"
        case .left: return "left"
        case .removed: return "removed"
        }
    }
}
