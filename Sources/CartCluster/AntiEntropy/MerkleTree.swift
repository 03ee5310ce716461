import Crypto

/// A node's anti-entropy hash tree over its data (Riak's TicTac AAE): 2^`leafBits` leaves
/// dividing the 64-bit token space evenly, each the XOR of the hashes of the keys whose tokens
/// fall in it. Because XOR is its own inverse, a write updates its leaf in O(1) from the old
/// and new record's hashes (`update`), so the tree is kept current on the write path and never
/// rebuilt by a rescan per exchange.
///
/// Exchanges run per ring partition (each partition has its own replica set). Partition p
/// covers the `leavesPerPartition` leaves from p × `leavesPerPartition`; within it the tree has
/// levels 0 … `leafLevel`: level k has `nodeCount(level: k)` = min(16^k, L) nodes, node i
/// covering leaves [i·L/count, (i+1)·L/count), and its hash is the XOR of those leaves. Level 0
/// is the partition's root; the last level is the leaves themselves. Interior hashes are
/// computed when asked (at most L XORs), so an update touches one word.
///
/// A partition's tree is **built** once its leaves reflect the store: after a restart none is,
/// and the node rebuilds them one partition at a time (`ReplicaStore.rebuildTree`), throttled;
/// an exchange of an unbuilt partition is skipped. While a partition is unbuilt, updates to it
/// are ignored (the rebuild's scan sees them).
///
/// Invariants (checked by `checkInvariants`, the tests and the simulator): for every built
/// partition, each leaf equals the XOR of `hash(storedKey:value:)` over the stored entries in
/// its token range (the store's tests rescan and compare); unbuilt partitions' leaves are 0.
///
/// Thread safety: a `Sendable` value; `ReplicaStore` keeps it under its lock.
public struct MerkleTree: Sendable {
    /// The tree's dimensions: the same on every node of a cluster (trees are compared by
    /// position).
    public struct Shape: Hashable, Sendable, CustomStringConvertible {
        /// The ring's partition bits.
        public let partitionBits: Int
        /// log2 of the number of leaves; at least `partitionBits`, at most 24.
        public let leafBits: Int
        /// log2 of the fan-out between levels.
        public static let fanoutBits = 4
        public static let leafBitsMax = 24

        /// Why a shape is refused.
        public enum Invalid: Error, Hashable, Sendable {
            case leafBits(Int, partitionBits: Int)
        }

        public init(partitionBits: Int, leafBits: Int) throws(Invalid) {
            guard Ring.partitionBitsRange.contains(partitionBits), (partitionBits...Self.leafBitsMax).contains(leafBits) else {
                throw .leafBits(leafBits, partitionBits: partitionBits)
            }
            self.partitionBits = partitionBits
            self.leafBits = leafBits
        }

        /// log2 of the leaves per partition of `standard`.
        public static let standardLeafBitsPerPartition = 6

        /// The shape for a ring of 2^`partitionBits` partitions: 2^6 leaves per partition.
        /// Precondition: `partitionBits` in `Ring.partitionBitsRange` (a ring's own).
        public static func standard(partitionBits: Int) -> Shape {
            // Ring.partitionBitsRange tops at 16, so leafBits ≤ 22 ≤ leafBitsMax.
            guard let shape = try? Shape(partitionBits: partitionBits, leafBits: partitionBits + standardLeafBitsPerPartition) else {
                preconditionFailure("standard tree shape for \(partitionBits) partition bits")
            }
            return shape
        }

        /// The shape for the default ring (2^10 partitions, 2^16 leaves).
        public static let `default` = standard(partitionBits: 10)

        public var partitionCount: Int { 1 << partitionBits }
        public var leafCount: Int { 1 << leafBits }
        /// L: leaves per partition.
        public var leavesPerPartition: Int { 1 << (leafBits - partitionBits) }
        /// The level of the leaves (0 if a partition is one leaf).
        public var leafLevel: Int { (leafBits - partitionBits + Self.fanoutBits - 1) / Self.fanoutBits }

        /// Nodes at `level` within one partition.
        public func nodeCount(level: Int) -> Int {
            1 << min(Self.fanoutBits * level, leafBits - partitionBits)
        }

        /// True if `level` and `index` name a node of a partition's tree.
        public func contains(level: Int, index: Int) -> Bool {
            (0...leafLevel).contains(level) && (0..<nodeCount(level: level)).contains(index)
        }

        /// The leaves (within the partition) that node `index` at `level` covers.
        public func leaves(level: Int, index: Int) -> Range<Int> {
            precondition(contains(level: level, index: index), "tree node \(level)/\(index) outside \(self)")
            let width = leavesPerPartition / nodeCount(level: level)
            return index * width..<(index + 1) * width
        }

        /// The children of node `index` at `level` (a node at `leafLevel` has none).
        public func children(level: Int, index: Int) -> Range<Int> {
            precondition(contains(level: level, index: index) && level < leafLevel, "children of \(level)/\(index) in \(self)")
            let ratio = nodeCount(level: level + 1) / nodeCount(level: level)
            return index * ratio..<(index + 1) * ratio
        }

        /// The global leaf of `token`.
        public func leaf(of token: UInt64) -> Int { Int(truncatingIfNeeded: token >> UInt64(64 - leafBits)) }

        /// The partition of a global leaf.
        public func partition(ofLeaf leaf: Int) -> Int { leaf >> (leafBits - partitionBits) }

        /// The tokens of leaf `leaf` (within `partition`), inclusive.
        public func tokenRange(partition: Int, leaf: Int) -> ClosedRange<UInt64> {
            precondition((0..<partitionCount).contains(partition) && (0..<leavesPerPartition).contains(leaf),
                         "leaf \(partition)/\(leaf) outside \(self)")
            let global = UInt64(partition << (leafBits - partitionBits) + leaf)
            let shift = UInt64(64 - leafBits)
            let lower = global << shift
            return lower...(lower | ((1 << shift) - 1))
        }

        public var description: String { "2^\(partitionBits) partitions × 2^\(leafBits - partitionBits) leaves" }
    }

    public let shape: Shape
    private var leafHashes: [UInt64]
    private var built: [Bool]
    /// Partitions built so far.
    public private(set) var builtCount = 0

    /// A tree with every partition unbuilt.
    public init(shape: Shape) {
        self.shape = shape
        leafHashes = Array(repeating: 0, count: shape.leafCount)
        built = Array(repeating: false, count: shape.partitionCount)
    }

    /// The hash of one stored entry: the first 8 bytes (big-endian) of SHA-256 over the stored
    /// key's length (be32), the stored key and the stored value (data-format.md, "Internode
    /// messages", anti-entropy).
    public static func hash(storedKey: some Collection<UInt8>, value: some Collection<UInt8>) -> UInt64 {
        var hasher = SHA256()
        let length = UInt32(truncatingIfNeeded: storedKey.count)
        withUnsafeBytes(of: length.bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(storedKey))
        hasher.update(data: Array(value))
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { raw in raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }

    /// True if `partition`'s leaves reflect the store.
    public func isBuilt(_ partition: Int) -> Bool { built[partition] }

    /// Replaces the entry hash `removing` by `adding` in the leaf of `token` (0 means no entry):
    /// a write of a key's record. Ignored while the token's partition is unbuilt.
    public mutating func update(token: UInt64, removing: UInt64, adding: UInt64) {
        let leaf = shape.leaf(of: token)
        guard built[shape.partition(ofLeaf: leaf)] else { return }
        leafHashes[leaf] ^= removing ^ adding
    }

    /// Installs a rebuilt partition: `leaves` are its L leaf hashes, from a scan of the store.
    public mutating func install(partition: Int, leaves: [UInt64]) {
        precondition(leaves.count == shape.leavesPerPartition, "\(leaves.count) leaves for \(shape)")
        let first = partition * shape.leavesPerPartition
        leafHashes.replaceSubrange(first..<first + leaves.count, with: leaves)
        if !built[partition] { builtCount += 1 }
        built[partition] = true
    }

    /// Marks `partition` unbuilt (a write's outcome is unknown: the store may or may not hold
    /// it): it is rebuilt from the store before it is compared again.
    public mutating func invalidate(partition: Int) {
        let first = partition * shape.leavesPerPartition
        for leaf in first..<first + shape.leavesPerPartition { leafHashes[leaf] = 0 }
        if built[partition] { builtCount -= 1 }
        built[partition] = false
    }

    /// The hash of node `index` at `level` of `partition`'s tree.
    public func hash(partition: Int, level: Int, index: Int) -> UInt64 {
        let first = partition * shape.leavesPerPartition
        var hash: UInt64 = 0
        for leaf in shape.leaves(level: level, index: index) { hash ^= leafHashes[first + leaf] }
        return hash
    }

    /// Leaf `leaf` (within `partition`).
    public func leaf(partition: Int, _ leaf: Int) -> UInt64 { leafHashes[partition * shape.leavesPerPartition + leaf] }

    /// `partition`'s root hash.
    public func root(partition: Int) -> UInt64 { hash(partition: partition, level: 0, index: 0) }

    /// A description of the first broken invariant, or nil.
    public func checkInvariants() -> String? {
        guard built.filter({ $0 }).count == builtCount else { return "built count \(builtCount) ≠ \(built.filter { $0 }.count)" }
        for partition in built.indices where !built[partition] {
            let first = partition * shape.leavesPerPartition
            if leafHashes[first..<first + shape.leavesPerPartition].contains(where: { $0 != 0 }) {
                return "unbuilt partition \(partition) has a nonzero leaf"
            }
        }
        return nil
    }
}
