/// Payloads tagged with unique dots: the "dot store" of ORSWOT and delta-state CRDTs.
///
/// Merge rule, given each side's causal context: an entry present on both sides stays; an entry
/// on one side stays only if the other side has not seen its dot (if it had seen it and does not
/// hold it, it removed or superseded it). This is how removals work without tombstones.
///
/// Invariants: every dot is in the owning state's causal context; a dot's payload never changes
/// (if two sides disagree anyway, the greater payload is kept so that merge stays commutative).
///
/// Thread safety: a `Sendable` value type.
struct DotMap<Payload: Hashable & Sendable & Comparable>: Hashable, Sendable {
    /// Dot → payload.
    var entries: [Dot: Payload] = [:]

    /// True if no entry is live.
    var isEmpty: Bool { entries.isEmpty }

    /// Entries ascending by dot (the record order).
    var sortedEntries: [(dot: Dot, payload: Payload)] {
        entries.sorted { $0.key < $1.key }.map { (dot: $0.key, payload: $0.value) }
    }

    /// The join of two dot maps whose owners have seen `selfContext` and `otherContext`.
    func merged(with other: DotMap, selfContext: CausalContext, otherContext: CausalContext) -> DotMap {
        var result = DotMap()
        for (dot, payload) in entries {
            if let theirs = other.entries[dot] {
                result.entries[dot] = max(payload, theirs)
            } else if !otherContext.contains(dot) {
                result.entries[dot] = payload
            }
        }
        for (dot, payload) in other.entries where entries[dot] == nil && !selfContext.contains(dot) {
            result.entries[dot] = payload
        }
        return result
    }

    /// Removes the entries whose dots `observed` contains (all entries if `observed` is nil).
    mutating func removeObserved(by observed: CausalContext?) {
        guard let observed else {
            entries.removeAll()
            return
        }
        entries = entries.filter { !observed.contains($0.key) }
    }

    /// Replaces every entry with one new entry (a register write that supersedes what it saw).
    mutating func replaceAll(with dot: Dot, _ payload: Payload) {
        entries = [dot: payload]
    }
}
