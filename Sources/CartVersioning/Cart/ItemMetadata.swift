/// An item's free-form string metadata (colour, size, gift note), written as a whole (LWW).
///
/// Keys and values are `UTF8Text`: compared by bytes, so equal metadata has equal bytes.
/// Comparable so that merge can break ties deterministically: pairs ascending by key bytes,
/// compared lexicographically.
///
/// Thread safety: a `Sendable` value type.
struct ItemMetadata: Hashable, Sendable, Comparable {
    /// Pairs, strictly ascending by key bytes.
    let pairs: [(key: UTF8Text, value: UTF8Text)]

    /// From an API dictionary (its keys are distinct as Unicode strings, hence as bytes).
    init(_ dictionary: [String: String]) {
        pairs = dictionary.map { (key: UTF8Text($0.key), value: UTF8Text($0.value)) }.sorted { $0.key < $1.key }
    }

    /// From decoded pairs the caller has checked are strictly ascending by key bytes.
    init(validatedPairs: [(key: UTF8Text, value: UTF8Text)]) { pairs = validatedPairs }

    /// As an API dictionary.
    var dictionary: [String: String] {
        Dictionary(pairs.map { ($0.key.string, $0.value.string) }, uniquingKeysWith: { first, _ in first })
    }

    static func == (lhs: ItemMetadata, rhs: ItemMetadata) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.key == $1.key && $0.value == $1.value }
    }

    func hash(into hasher: inout Hasher) {
        for p in pairs {
            hasher.combine(p.key)
            hasher.combine(p.value)
        }
    }

    static func < (lhs: ItemMetadata, rhs: ItemMetadata) -> Bool {
        lhs.pairs.flatMap { [$0.key, $0.value] }.lexicographicallyPrecedes(rhs.pairs.flatMap { [$0.key, $0.value] })
    }
}
