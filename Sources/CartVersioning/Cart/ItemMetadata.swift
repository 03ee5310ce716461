/// An item's free-form string metadata (colour, size, gift note), written as a whole (LWW).
///
/// Comparable so that merge can break ties deterministically; the order compares the pairs
/// sorted by UTF-8 key bytes.
///
/// Thread safety: a `Sendable` value type.
struct ItemMetadata: Hashable, Sendable, Comparable {
    /// Key → value.
    var pairs: [String: String]

    /// Pairs ascending by UTF-8 key bytes (the record order).
    var sortedPairs: [(key: String, value: String)] {
        pairs.sorted { $0.key.utf8Precedes($1.key) }.map { (key: $0.key, value: $0.value) }
    }

    static func < (lhs: ItemMetadata, rhs: ItemMetadata) -> Bool {
        let left = lhs.sortedPairs.flatMap { [$0.key, $0.value] }
        let right = rhs.sortedPairs.flatMap { [$0.key, $0.value] }
        return left.lexicographicallyPrecedes(right) { $0.utf8Precedes($1) }
    }
}
