@testable import CartVersioning

/// An independent model of the cart's intended semantics, for randomized histories.
///
/// It records every application of an operation as one event, with the set of events its
/// coordinator had seen and the set its client had observed, and derives what any state shows
/// from those sets alone: no dots in contexts, no counters, no watermarks, no merging.
///
/// - A **change** event adds `delta` units; it counts unless a reset that observed it exists.
/// - A **set** event asserts "quantity = N"; the live sets' winner (greatest
///   `(timestampMs, replica, counter)`) is the base, and counted changes add on top.
/// - A **reset** (remove, clear, set, decrement to 0, add to a hidden item) cancels the changes
///   and sets it observed, and, unless it is quantity-only, the detail writes it observed.
/// - A **detail write** (name, price, metadata) is live unless a full reset observed it or a
///   later write of the same field on the same SKU was made by a coordinator that had seen it.
/// - **Lives:** an add to an item not shown and a set begin an incarnation; a reset that
///   observed it ends it. Every change is tagged with the life its coordinator saw: the
///   incarnations in force and those of every life with a positive value. Changes that count
///   link the incarnations of their tags into one life; a life's value is its counted changes
///   (plus the winning set's quantity if that set began it), floored at zero.
/// - **Retries:** of the events applying one operation id, only the one with the least dot
///   counts its change; sets, detail writes and resets of every application stay. No change of
///   the id counts if a reset observed the change of any application, or if one application was
///   a removal (a decrement that reached zero at its coordinator).
///
/// Quantity = the sum over lives of their values floored at zero; the item shows if positive.
struct CartOracle {
    enum Field: Hashable, CaseIterable { case name, price, metadata }

    /// A detail value as the cart stores it.
    enum Value: Hashable {
        case text(String)
        case price(Int64)
        case metadata([String: String])
    }

    struct Reset {
        /// nil: every SKU (clear).
        var sku: String?
        var observed: Set<Int>
        var quantityOnly: Bool
    }

    struct Event {
        var id: Int
        var operationID: String
        var dot: Dot
        var sku: String?
        var delta: Int64?
        var setQuantity: Int64?
        var timestampMs: UInt64
        var resets: [Reset] = []
        var details: [Field: (value: Value, timestampMs: UInt64)] = [:]
        /// Every event its coordinator had seen.
        var local: Set<Int>
        /// It began an incarnation of the item.
        var beginsIncarnation = false
        /// For a change: the life it was made in (incarnation event ids).
        var tags: Set<Int> = []
    }

    struct Item: Equatable, CustomStringConvertible {
        var quantity: Int64 = 0
        var name: String?
        var priceMinor: Int64?
        var metadata: [String: String]?
        var visible: Bool { quantity > 0 }
        var description: String { "q=\(quantity) name=\(name ?? "-") price=\(priceMinor.map(String.init) ?? "-") meta=\(metadata ?? [:])" }
    }

    private(set) var events: [Int: Event] = [:]
    private var nextID = 0

    /// Records an event; returns its id.
    mutating func record(operationID: String, dot: Dot, sku: String?, delta: Int64? = nil, setQuantity: Int64? = nil,
                         timestampMs: UInt64, resets: [Reset] = [], details: [Field: (value: Value, timestampMs: UInt64)] = [:],
                         local: Set<Int>, beginsIncarnation: Bool = false, tags: Set<Int> = []) -> Int {
        let id = nextID
        nextID += 1
        // An event that begins an incarnation is made in the life it begins.
        events[id] = Event(id: id, operationID: operationID, dot: dot, sku: sku, delta: delta, setQuantity: setQuantity,
                           timestampMs: timestampMs, resets: resets, details: details, local: local,
                           beginsIncarnation: beginsIncarnation, tags: beginsIncarnation ? [id] : tags)
        return id
    }

    /// The incarnations of `sku` in force at a state that has seen `seen`.
    func incarnations(_ sku: String, seen: Set<Int>) -> Set<Int> {
        let visible = seen.compactMap { events[$0] }
        let resets = visible.flatMap(\.resets).filter { $0.sku == nil || $0.sku == sku }
        let begun = visible.filter { $0.sku == sku && $0.beginsIncarnation }.map(\.id)
        return Set(begun.filter { id in !resets.contains { $0.observed.contains(id) } })
    }

    /// True if a state that has seen `seen` holds an application of `operationID`.
    func hasApplied(_ operationID: String, in seen: Set<Int>) -> Bool {
        seen.contains { events[$0]?.operationID == operationID }
    }

    /// The lives of `sku` at a state that has seen `seen`: each as its incarnations and value
    /// (unfloored).
    func lives(_ sku: String, seen: Set<Int>) -> [(incarnations: Set<Int>, value: Int64)] {
        let visible = seen.compactMap { events[$0] }
        var canonicalDot: [String: Dot] = [:]
        for event in visible {
            canonicalDot[event.operationID] = min(canonicalDot[event.operationID] ?? event.dot, event.dot)
        }
        let resets = visible.flatMap(\.resets).filter { $0.sku == nil || $0.sku == sku }
        func quantityReset(_ event: Event) -> Bool { resets.contains { $0.observed.contains(event.id) } }
        let mine = visible.filter { $0.sku == sku }

        // An operation applied twice counts no change if a reset observed the change of either
        // application, or if one of them was a removal.
        var voidOperations: Set<String> = []
        for (operationID, applications) in Dictionary(grouping: mine, by: \.operationID) where applications.count > 1 {
            let anyReset = applications.contains { $0.delta != nil && quantityReset($0) }
            let anyRemoval = applications.contains { $0.delta == nil } && applications.contains { $0.delta != nil }
            if anyReset || anyRemoval { voidOperations.insert(operationID) }
        }
        let counted = mine.filter {
            $0.delta != nil && canonicalDot[$0.operationID] == $0.dot && !quantityReset($0) && !voidOperations.contains($0.operationID)
        }
        let liveSets = mine.filter { $0.setQuantity != nil && !quantityReset($0) }
        let winner = liveSets.max { ($0.timestampMs, $0.dot.replica, $0.dot.counter) < ($1.timestampMs, $1.dot.replica, $1.dot.counter) }

        var parent: [Int: Int] = [:]
        func find(_ x: Int) -> Int {
            var root = x
            while let up = parent[root], up != root { root = up }
            return root
        }
        func union(_ xs: [Int]) {
            for x in xs where parent[x] == nil { parent[x] = x }
            guard let first = xs.first else { return }
            for x in xs.dropFirst() where find(x) != find(first) { parent[find(x)] = find(first) }
        }
        for event in counted { union(Array(event.tags).sorted()) }
        for incarnation in incarnations(sku, seen: seen) { union([incarnation]) }
        if let winner { union([winner.id]) }
        var values: [Int: Int64] = [:]
        var members: [Int: Set<Int>] = [:]
        for x in parent.keys { members[find(x), default: []].insert(x) }
        for event in counted { values[find(event.tags.min()!), default: 0] += event.delta! }
        if let winner { values[find(winner.id), default: 0] += winner.setQuantity! }
        return members.map { (incarnations: $0.value, value: values[$0.key] ?? 0) }
    }

    /// The life a change made now at a state that has seen `local` is tagged with.
    func lifeOfNextChange(_ sku: String, local: Set<Int>) -> Set<Int> {
        var tags = incarnations(sku, seen: local)
        for life in lives(sku, seen: local) where life.value > 0 { tags.formUnion(life.incarnations) }
        return tags
    }

    /// What a state that has seen exactly `seen` shows for `sku`.
    func item(_ sku: String, seen: Set<Int>) -> Item {
        var result = Item()
        result.quantity = lives(sku, seen: seen).reduce(0) { $0 + max(0, $1.value) }
        for write in detailWinners(sku, seen: seen).values {
            switch write.value {
            case let .text(name): result.name = name
            case let .price(price): result.priceMinor = price
            case let .metadata(metadata): result.metadata = metadata
            }
        }
        return result
    }

    /// The current winner of each detail field at a state that has seen `seen`, with its
    /// original timestamp: what a quantity change re-asserts.
    func detailWinners(_ sku: String, seen: Set<Int>) -> [Field: (value: Value, timestampMs: UInt64)] {
        let visible = seen.compactMap { events[$0] }
        let resets = visible.flatMap(\.resets).filter { $0.sku == nil || $0.sku == sku }
        let mine = visible.filter { $0.sku == sku }
        var winners: [Field: (value: Value, timestampMs: UInt64, dot: Dot)] = [:]
        for event in mine where !resets.contains(where: { !$0.quantityOnly && $0.observed.contains(event.id) }) {
            for (field, write) in event.details {
                if visible.contains(where: { $0.sku == sku && $0.details[field] != nil && $0.local.contains(event.id) }) { continue }
                if let current = winners[field],
                   (write.timestampMs, event.dot.replica, event.dot.counter) <= (current.timestampMs, current.dot.replica, current.dot.counter) {
                    continue
                }
                winners[field] = (write.value, write.timestampMs, event.dot)
            }
        }
        return winners.mapValues { (value: $0.value, timestampMs: $0.timestampMs) }
    }

    /// Lives of `sku` whose changes sum below zero at a state that has seen `seen` (floored: a
    /// coverage figure for the tests).
    func flooredLives(_ sku: String, seen: Set<Int>) -> Int {
        lives(sku, seen: seen).filter { $0.value < 0 }.count
    }

    /// Number of change events by `replica` to `sku` in `local` but not in `observed`.
    func unobservedChanges(by replica: ReplicaID, sku: String, local: Set<Int>, observed: Set<Int>) -> Int {
        local.subtracting(observed).compactMap { events[$0] }.filter {
            $0.sku == sku && $0.delta != nil && $0.dot.replica == replica
        }.count
    }
}
