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
/// - **Incarnations:** an add to an item not shown and a set begin an incarnation; a reset
///   that observed it ends it. A decrement records the incarnations its coordinator saw; once
///   they have all ended, it no longer counts (a removal, set or re-add wins over a concurrent
///   decrement; increments are never voided).
/// - **Retries:** of the events applying one operation id, only the one with the least dot
///   counts its change; sets, detail writes and resets of every application stay. No change of
///   the id counts if a reset observed the change of any application, or if one application was
///   a removal (a decrement that reached zero at its coordinator).
///
/// Quantity = live set winner (or 0) + live deltas; the item shows if positive.
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
        /// For a decrement: the incarnations (event ids) in force at its coordinator.
        var incarnations: Set<Int> = []
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
                         local: Set<Int>, beginsIncarnation: Bool = false, incarnations: Set<Int> = []) -> Int {
        let id = nextID
        nextID += 1
        events[id] = Event(id: id, operationID: operationID, dot: dot, sku: sku, delta: delta, setQuantity: setQuantity,
                           timestampMs: timestampMs, resets: resets, details: details, local: local,
                           beginsIncarnation: beginsIncarnation, incarnations: incarnations)
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

    /// What a state that has seen exactly `seen` shows for `sku`.
    func item(_ sku: String, seen: Set<Int>) -> Item {
        let visible = seen.compactMap { events[$0] }
        var canonicalDot: [String: Dot] = [:]
        for event in visible {
            canonicalDot[event.operationID] = min(canonicalDot[event.operationID] ?? event.dot, event.dot)
        }
        let resets = visible.flatMap(\.resets).filter { $0.sku == nil || $0.sku == sku }
        func isCanonical(_ event: Event) -> Bool { canonicalDot[event.operationID] == event.dot }
        func quantityReset(_ event: Event) -> Bool { resets.contains { $0.observed.contains(event.id) } }
        func newer(_ lhs: (timestampMs: UInt64, dot: Dot), than rhs: (timestampMs: UInt64, dot: Dot)) -> Bool {
            (lhs.timestampMs, lhs.dot.replica, lhs.dot.counter) > (rhs.timestampMs, rhs.dot.replica, rhs.dot.counter)
        }

        // An operation applied twice counts no change if a reset observed the change of either
        // application, or if one of them was a removal.
        var voidOperations: Set<String> = []
        let mine = visible.filter { $0.sku == sku }
        let byOperation = Dictionary(grouping: mine, by: \.operationID)
        for (operationID, applications) in byOperation where applications.count > 1 {
            let anyReset = applications.contains { $0.delta != nil && quantityReset($0) }
            let anyRemoval = applications.contains { $0.delta == nil } && applications.contains { $0.delta != nil }
            if anyReset || anyRemoval { voidOperations.insert(operationID) }
        }
        let current = incarnations(sku, seen: seen)

        var result = Item()
        var setWinner: Event?
        for event in mine where !quantityReset(event) {
            if let delta = event.delta, isCanonical(event), !voidOperations.contains(event.operationID) {
                let ended = delta < 0 && !event.incarnations.isEmpty && event.incarnations.isDisjoint(with: current)
                if !ended { result.quantity += delta }
            }
            if event.setQuantity != nil,
               setWinner.map({ newer((event.timestampMs, event.dot), than: ($0.timestampMs, $0.dot)) }) ?? true {
                setWinner = event
            }
        }
        result.quantity += setWinner?.setQuantity ?? 0
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

    /// Decrements of `sku` voided at a state that has seen `seen`: their incarnations all ended
    /// and no reset observed them (a coverage figure for the tests).
    func voidedDecrements(_ sku: String, seen: Set<Int>) -> Int {
        let visible = seen.compactMap { events[$0] }
        let resets = visible.flatMap(\.resets).filter { $0.sku == nil || $0.sku == sku }
        let current = incarnations(sku, seen: seen)
        return visible.filter { event in
            event.sku == sku && (event.delta ?? 0) < 0 && !event.incarnations.isEmpty && event.incarnations.isDisjoint(with: current)
                && !resets.contains { $0.observed.contains(event.id) }
        }.count
    }

    /// Number of change events by `replica` to `sku` in `local` but not in `observed`.
    func unobservedChanges(by replica: ReplicaID, sku: String, local: Set<Int>, observed: Set<Int>) -> Int {
        local.subtracting(observed).compactMap { events[$0] }.filter {
            $0.sku == sku && $0.delta != nil && $0.dot.replica == replica
        }.count
    }
}
