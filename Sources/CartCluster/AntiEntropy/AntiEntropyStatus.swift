/// A node's anti-entropy state, for status pages and the simulator's convergence check.
///
/// Thread safety: a `Sendable` value type.
public struct AntiEntropyStatus: Hashable, Sendable {
    /// One replicated partition's root hash; nil while its tree is unbuilt.
    public struct PartitionRoot: Hashable, Sendable {
        public let partition: Int
        public let root: UInt64?
    }

    /// Partition trees built, of all partitions (every partition's tree is kept, replicated or
    /// not: one that holds no data is built by one empty scan).
    public let partitionsBuilt: Int
    public let partitionCount: Int
    /// Exchanges this node started that are still in flight (0 or 1).
    public let exchangesInFlight: Int
    /// The partitions this node replicates, ascending, with their roots.
    public let roots: [PartitionRoot]

    /// The state of `store`'s tree for a node configured by `configuration`, with
    /// `exchangesInFlight` exchanges it started. Safe from any thread (the store locks).
    public init(configuration: NodeConfiguration, store: ReplicaStore, exchangesInFlight: Int) {
        let ring = configuration.ring
        roots = (0..<ring.partitionCount)
            .filter { ring.preferenceList(forPartition: $0, n: configuration.replicationN).contains(configuration.node) }
            .map { PartitionRoot(partition: $0, root: store.treeRoot(partition: $0)) }
        partitionsBuilt = store.treePartitionsBuilt
        partitionCount = store.treeShape.partitionCount
        self.exchangesInFlight = exchangesInFlight
    }
}
