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

/// Merges child iterators into one ordered stream with a binary min-heap of the valid
/// children: each step re-sifts only the child that moved (O(log n) key comparisons). Children
/// are ordered newest first, which breaks ties (none are expected: every (key, sequence) exists
/// once).
final class MergingIterator: InternalIterator {
    private let children: [any InternalIterator]
    /// Indices of valid children; heap[0] is the smallest.
    private var heap: [Int] = []

    init(_ children: [any InternalIterator]) {
        self.children = children
        heap.reserveCapacity(children.count)
    }

    var isValid: Bool { !heap.isEmpty }
    var key: [UInt8] { children[heap[0]].key }
    var value: ArraySlice<UInt8> { children[heap[0]].value }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        let c = InternalKey.compare(children[a].key[...], children[b].key[...])
        return c < 0 || (c == 0 && a < b)
    }

    private func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && less(heap[l], heap[m]) { m = l }
            if r < n && less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    private func rebuild() {
        heap = children.indices.filter { children[$0].isValid }
        var i = heap.count / 2
        while i > 0 { i -= 1; siftDown(i) }
    }

    func seekToFirst() throws(StorageError) {
        for c in children { try c.seekToFirst() }
        rebuild()
    }

    func seek(_ target: ArraySlice<UInt8>) throws(StorageError) {
        for c in children { try c.seek(target) }
        rebuild()
    }

    func next() throws(StorageError) {
        guard let top = heap.first else { return }
        try children[top].next()
        if !children[top].isValid {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
        }
        if !heap.isEmpty { siftDown(0) }
    }
}
