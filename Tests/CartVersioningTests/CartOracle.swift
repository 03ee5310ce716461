@testable import CartVersioning

/// An independent model of the cart's intended semantics, for randomized histories.
///
/// It records every operation with the set of operations its replica had observed, and derives
/// what any state should show from those sets alone, with no dots, no contexts and no merging:
/// - a write's contribution is live unless a removal that had observed it exists;
/// - a register write is live unless removed, or superseded by a later write of the same field
///   on the same SKU whose replica had observed it;
/// - quantity = sum of live contributions; the item shows if its quantity is positive.
struct CartOracle {
    struct Write {
        var id: Int
        var dot: Dot
        var sku: String
        var delta: Int64?
        var addedAtMs: UInt64
        var name: String?
        var priceMinor: Int64?
        var timestampMs: UInt64
        /// Everything its replica had observed when it wrote (registers supersede these).
        var local: Set<Int>
    }

    struct Removal {
        var id: Int
        /// nil: every SKU (clear).
        var sku: String?
        /// Only the quantity contributions (the reset of a hidden item before an add).
        var quantityOnly: Bool
        /// The operations it removes if they match.
        var observed: Set<Int>
    }

    struct Item: Equatable, CustomStringConvertible {
        var present = false
        var quantity: Int64 = 0
        var name = ""
        var priceMinor: Int64 = 0
        var addedAtMs: UInt64?
        var updatedAtMs: UInt64 = 0
        var visible: Bool { present && quantity > 0 }
        var description: String { "present=\(present) q=\(quantity) name=\(name) price=\(priceMinor) added=\(addedAtMs ?? 0) updated=\(updatedAtMs)" }
    }

    private(set) var writes: [Int: Write] = [:]
    private(set) var removals: [Int: Removal] = [:]
    private var nextID = 0
    private var counters: [ReplicaID: UInt64] = [:]

    /// Records a write by `replica`; returns its id and expected dot.
    mutating func recordWrite(replica: ReplicaID, sku: String, delta: Int64?, addedAtMs: UInt64, name: String?,
                              priceMinor: Int64?, timestampMs: UInt64, local: Set<Int>) -> Int {
        let counter = (counters[replica] ?? 0) + 1
        counters[replica] = counter
        let id = nextID
        nextID += 1
        writes[id] = Write(id: id, dot: Dot(replica: replica, counter: counter), sku: sku, delta: delta, addedAtMs: addedAtMs,
                           name: name, priceMinor: priceMinor, timestampMs: timestampMs, local: local)
        return id
    }

    /// Records a removal; returns its id.
    mutating func recordRemoval(sku: String?, quantityOnly: Bool, observed: Set<Int>) -> Int {
        let id = nextID
        nextID += 1
        removals[id] = Removal(id: id, sku: sku, quantityOnly: quantityOnly, observed: observed)
        return id
    }

    /// What a state that has observed exactly `observed` should hold, per SKU (present items only).
    func expected(_ observed: Set<Int>) -> [String: Item] {
        let seenWrites = observed.compactMap { writes[$0] }
        let seenRemovals = observed.compactMap { removals[$0] }
        func removed(_ write: Write, quantity: Bool) -> Bool {
            seenRemovals.contains { removal in
                (removal.sku == nil || removal.sku == write.sku) && (quantity || !removal.quantityOnly)
                    && removal.observed.contains(write.id)
            }
        }
        func superseded(_ write: Write, _ field: (Write) -> Bool) -> Bool {
            seenWrites.contains { $0.sku == write.sku && field($0) && $0.local.contains(write.id) }
        }
        func newer(_ lhs: Write, _ rhs: Write) -> Bool {
            (lhs.timestampMs, lhs.dot.replica, lhs.dot.counter) > (rhs.timestampMs, rhs.dot.replica, rhs.dot.counter)
        }
        var items: [String: Item] = [:]
        var nameWinner: [String: Write] = [:]
        var priceWinner: [String: Write] = [:]
        for write in seenWrites {
            var item = items[write.sku] ?? Item()
            if let delta = write.delta, !removed(write, quantity: true) {
                item.present = true
                item.quantity += delta
                item.addedAtMs = min(item.addedAtMs ?? .max, write.addedAtMs)
                item.updatedAtMs = max(item.updatedAtMs, write.timestampMs)
            }
            if write.name != nil, !removed(write, quantity: false), !superseded(write, { $0.name != nil }) {
                item.present = true
                item.updatedAtMs = max(item.updatedAtMs, write.timestampMs)
                if let current = nameWinner[write.sku], !newer(write, current) {} else { nameWinner[write.sku] = write }
            }
            if write.priceMinor != nil, !removed(write, quantity: false), !superseded(write, { $0.priceMinor != nil }) {
                item.present = true
                item.updatedAtMs = max(item.updatedAtMs, write.timestampMs)
                if let current = priceWinner[write.sku], !newer(write, current) {} else { priceWinner[write.sku] = write }
            }
            items[write.sku] = item
        }
        for (sku, write) in nameWinner { items[sku]?.name = write.name ?? "" }
        for (sku, write) in priceWinner { items[sku]?.priceMinor = write.priceMinor ?? 0 }
        return items.filter(\.value.present)
    }

    /// Sum of the live contributions of `sku` among `observed` whose ids are in `subset`.
    func quantity(of sku: String, observed: Set<Int>, restrictedTo subset: Set<Int>) -> Int64 {
        let seenRemovals = observed.compactMap { removals[$0] }
        return observed.compactMap { writes[$0] }.filter { write in
            write.sku == sku && write.delta != nil && subset.contains(write.id)
                && !seenRemovals.contains { ($0.sku == nil || $0.sku == sku) && $0.observed.contains(write.id) }
        }.reduce(0) { $0 + ($1.delta ?? 0) }
    }
}
