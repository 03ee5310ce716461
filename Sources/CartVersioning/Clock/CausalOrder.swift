/// How one causal history relates to another (the result of `a.compare(b)`).
///
/// Thread safety: a `Sendable` value type.
public enum CausalOrder: Sendable, Hashable {
    /// `a` happened before `b`: everything `a` saw, `b` saw too, and `b` saw more.
    case before
    /// `a` happened after `b`.
    case after
    /// Same history.
    case equal
    /// Neither saw all of the other: both must be kept (siblings) or merged.
    case concurrent
}
