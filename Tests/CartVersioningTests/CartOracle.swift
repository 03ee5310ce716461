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
/// - **Lives:** an add to an item not shown and a set begin an incarnation (a life); a reset
///   that observed it ends it. An increment joins the life in force with the greatest value not
///   below zero, or begins a life of its own if there is none. A decrement's units are
///   allocated across the lives its coordinator saw with a positive value, preferring lives in
///   force, then greater values, then greater dots. A life's value is its counted units (plus
///   the winning set's quantity if that set began it), floored at zero.
/// - **Retries:** of the events applying one operation id, only the one with the least dot
///   counts its change; sets, detail writes and resets of every application stay. No change of
///   the id counts if a reset observed the change of any application, or if one application was
///   a removal (a decrement that reached zero at its coordinator).
///
/// Quantity = the sum over lives of their values floored at zero; the item shows if positive.
/// Details are re-asserted by increments and sets, not by decrements.
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
        /// For a change: its units by life (incarnation event id), in order.
        var allocation: [(incarnation: Int, units: Int64)] = []
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
                         local: Set<Int>, beginsIncarnation: Bool = false,
                         allocation: [(incarnation: Int, units: Int64)] = []) -> Int {
        let id = nextID
        nextID += 1
        // A change that begins an incarnation goes all to the life it begins.
        let units = (delta ?? 0).magnitude
        events[id] = Event(id: id, operationID: operationID, dot: dot, sku: sku, delta: delta, setQuantity: setQuantity,
                           timestampMs: timestampMs, resets: resets, details: details, local: local,
                           beginsIncarnation: beginsIncarnation,
                           allocation: beginsIncarnation && delta != nil ? [(id, Int64(units))] : allocation)
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

    /// The lives of `sku` at a state that has seen `seen`: incarnation event id → value
    /// (unfloored).
    func lives(_ sku: String, seen: Set<Int>) -> [Int: Int64] {
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
        var values: [Int: Int64] = [:]
        for incarnation in incarnations(sku, seen: seen) { values[incarnation] = 0 }
        for event in mine where event.delta != nil && canonicalDot[event.operationID] == event.dot && !quantityReset(event)
            && !voidOperations.contains(event.operationID) {
            for part in event.allocation {
                values[part.incarnation, default: 0] += event.delta! < 0 ? -part.units : part.units
            }
        }
        let liveSets = mine.filter { $0.setQuantity != nil && !quantityReset($0) }
        if let winner = liveSets.max(by: { ($0.timestampMs, $0.dot.replica, $0.dot.counter) < ($1.timestampMs, $1.dot.replica, $1.dot.counter) }) {
            values[winner.id, default: 0] += winner.setQuantity!
        }
        return values
    }

    /// The life an increment made now at a state that has seen `local` joins: the life in force
    /// with the greatest value not below zero (then the greatest dot); nil if none, and the
    /// increment begins a life of its own.
    func lifeAnIncrementJoins(sku: String, local: Set<Int>) -> Int? {
        let inForce = incarnations(sku, seen: local)
        return lives(sku, seen: local).filter { inForce.contains($0.key) && $0.value >= 0 }
            .max { lhs, rhs in (lhs.value, events[lhs.key]!.dot) < (rhs.value, events[rhs.key]!.dot) }?.key
    }

    /// The allocation of a change of `delta` made now at a state that has seen `local` (an
    /// increment that `lifeAnIncrementJoins` gives no life for begins one: see `record`).
    func allocation(of delta: Int64, sku: String, local: Set<Int>) -> [(incarnation: Int, units: Int64)] {
        if delta > 0 { return lifeAnIncrementJoins(sku: sku, local: local).map { [($0, delta)] } ?? [] }
        let inForce = incarnations(sku, seen: local)
        let preferred = lives(sku, seen: local).filter { $0.value > 0 }.sorted { lhs, rhs in
            let lhsInForce = inForce.contains(lhs.key), rhsInForce = inForce.contains(rhs.key)
            if lhsInForce != rhsInForce { return lhsInForce }
            if lhs.value != rhs.value { return lhs.value > rhs.value }
            return events[lhs.key]!.dot > events[rhs.key]!.dot
        }
        guard !preferred.isEmpty else { return [] }
        var remaining = -delta
        var result: [(incarnation: Int, units: Int64)] = []
        for life in preferred where remaining > 0 {
            let units = min(remaining, life.value)
            result.append((life.key, units))
            remaining -= units
        }
        if remaining > 0 { result[result.count - 1].units += remaining }
        return result
    }

    /// What a state that has seen exactly `seen` shows for `sku`.
    func item(_ sku: String, seen: Set<Int>) -> Item {
        var result = Item()
        result.quantity = lives(sku, seen: seen).values.reduce(0) { $0 + max(0, $1) }
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
        lives(sku, seen: seen).values.filter { $0 < 0 }.count
    }

    /// Number of change events by `replica` to `sku` in `local` but not in `observed`.
    func unobservedChanges(by replica: ReplicaID, sku: String, local: Set<Int>, observed: Set<Int>) -> Int {
        local.subtracting(observed).compactMap { events[$0] }.filter {
            $0.sku == sku && $0.delta != nil && $0.dot.replica == replica
        }.count
    }
}
