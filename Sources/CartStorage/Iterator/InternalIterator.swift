/// A forward cursor over encoded internal keys (user key ++ trailer) in internal-key order.
/// Implemented by memtable, segment and merging iterators. Errors (a corrupt block) are thrown
/// from the call that met them.
///
/// Not thread-safe: one iterator belongs to one thread at a time.
protocol InternalIterator: AnyObject {
    var isValid: Bool { get }
    /// The current encoded internal key; only meaningful while `isValid`.
    var key: [UInt8] { get }
    var value: ArraySlice<UInt8> { get }
    func seekToFirst() throws(StorageError)
    /// Positions at the first entry whose internal key is ≥ `target`.
    func seek(_ target: ArraySlice<UInt8>) throws(StorageError)
    func next() throws(StorageError)
}

/// Iterates a memtable. Holds a node index, which stays valid because the memtable only grows.
final class MemtableIterator: InternalIterator {
    private let table: Memtable
    private var node: Int32 = -1
    private(set) var key: [UInt8] = []
    private var currentValue: [UInt8] = []

    init(_ table: Memtable) { self.table = table }

    var isValid: Bool { node >= 0 }
    var value: ArraySlice<UInt8> { currentValue[...] }

    private func load(_ n: Int32) {
        node = n
        if n >= 0 {
            let e = table.entry(n)
            key = e.key
            currentValue = e.value
        }
    }

    func seekToFirst() { load(table.first()) }
    func seek(_ target: ArraySlice<UInt8>) { load(table.seek(internalKey: target)) }
    func next() { if node >= 0 { load(table.next(node)) } }
}

/// Merges child iterators into one ordered stream. Children are ordered newest first, which
/// breaks ties (none are expected: every (key, sequence) exists once).
final class MergingIterator: InternalIterator {
    private let children: [any InternalIterator]
    private var current = -1

    init(_ children: [any InternalIterator]) { self.children = children }

    var isValid: Bool { current >= 0 }
    var key: [UInt8] { children[current].key }
    var value: ArraySlice<UInt8> { children[current].value }

    private func pickSmallest() {
        current = -1
        var best: [UInt8] = []
        for (i, c) in children.enumerated() where c.isValid {
            let k = c.key
            if current < 0 || InternalKey.compare(k[...], best[...]) < 0 {
                current = i
                best = k
            }
        }
    }

    func seekToFirst() throws(StorageError) {
        for c in children { try c.seekToFirst() }
        pickSmallest()
    }

    func seek(_ target: ArraySlice<UInt8>) throws(StorageError) {
        for c in children { try c.seek(target) }
        pickSmallest()
    }

    func next() throws(StorageError) {
        guard current >= 0 else { return }
        try children[current].next()
        pickSmallest()
    }
}
