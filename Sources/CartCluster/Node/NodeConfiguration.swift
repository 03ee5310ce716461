import CartVersioning

/// A node's protocol settings: the same on every node except `node`.
public struct NodeConfiguration: Hashable, Sendable {
    /// This node.
    public var node: NodeID
    /// The cluster's ring (static membership in this release).
    public var ring: Ring
    /// Key namespaces, matched by longest prefix; `fallbackNamespace` for keys matching none.
    public var namespaces: [KeyNamespace] = [.carts]
    public var fallbackNamespace: KeyNamespace = .opaque
    /// R and W when a request names none (capped at the namespace's N).
    public var defaultR = 2
    public var defaultW = 2
    /// A request's timeout when it names none, and the most it may name.
    public var requestTimeoutMs: UInt64 = 2_000
    public var requestTimeoutMaxMs: UInt64 = 60_000
    /// How long a replica may stay silent before it is suspected and replaced by a fallback
    /// (sloppy quorum), and how long a read keeps listening after it answered (read repair).
    public var replicaTimeoutMs: UInt64 = 400
    /// How long a suspicion lasts without news: afterwards the node is tried again.
    public var suspicionMs: UInt64 = 3_000
    /// Read repairs sent per second at most (a token bucket of `readRepairBurst`); the rest
    /// are skipped and counted (anti-entropy catches them).
    public var readRepairsPerSecond: Int = 200
    public var readRepairBurst: Int = 100
    /// How often hints are offered to their owners, and how many per owner at a time.
    public var hintDeliveryIntervalMs: UInt64 = 1_000
    public var hintDeliveryBatch: Int = 32
    /// Anti-entropy: how often a node starts an exchange of one partition with one of its
    /// replicas (one exchange at a time; partitions and peers taken in turn), and how long an
    /// exchange may take before it is forgotten.
    public var antiEntropyIntervalMs: UInt64 = 100
    public var antiEntropyTimeoutMs: UInt64 = 2_000
    /// Most key digests one exchange lists (the differing leaves are taken in order while the
    /// count stays under it; the rest wait for a later exchange), and so most keys repaired.
    public var antiEntropyKeysPerExchange = 1_024
    /// How often one unbuilt partition's tree is rebuilt from a scan (after a start, every
    /// partition is unbuilt), and how often a node with every tree built looks again.
    public var treeRebuildIntervalMs: UInt64 = 10
    public var treeRecheckIntervalMs: UInt64 = 1_000
    /// Gossip: how often a node sends its view to a random member; the failure detector's phi
    /// threshold; and this node's internode address as it advertises it.
    public var gossipIntervalMs: UInt64 = 1_000
    public var phiThreshold: Double = 8
    public var address: String = ""
    /// Versioning limits: the same on every node.
    public var limits: VersioningLimits = .default

    public init(node: NodeID, ring: Ring) {
        self.node = node
        self.ring = ring
    }

    /// Why a configuration is refused (operators write it: never a trap).
    public enum Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        case nodeNotOnRing(NodeID)
        /// A namespace's N outside 1…`QuorumParameters.nMax`.
        case replicas(KeyNamespace)
        /// A negative or zero setting that must be positive (its name).
        case notPositive(String)
        /// The storage's anti-entropy tree is not shaped for this ring.
        case treeShape(MerkleTree.Shape, ringPartitionBits: Int)
        /// An advertised address longer than `MemberRecord.addressBytesMax`.
        case addressTooLong(bytes: Int)
        /// A setting above its bound (its name, the bound).
        case tooLarge(String, max: UInt64)

        public var description: String {
            switch self {
            case let .nodeNotOnRing(node): return "node \(node) is not on the ring"
            case let .replicas(namespace): return "namespace \(namespace): N outside 1…\(QuorumParameters.nMax)"
            case let .notPositive(name): return "\(name) must be positive"
            case let .treeShape(shape, bits): return "anti-entropy tree \(shape) does not fit a ring of 2^\(bits) partitions"
            case let .addressTooLong(bytes): return "address of \(bytes) bytes, longer than \(MemberRecord.addressBytesMax)"
            case let .tooLarge(name, max): return "\(name) must be at most \(max)"
            }
        }
    }

    /// Checks what the node relies on.
    public func validate() throws(Invalid) {
        guard ring.nodes.contains(node) else { throw .nodeNotOnRing(node) }
        for namespace in namespaces + [fallbackNamespace] where !(1...QuorumParameters.nMax).contains(namespace.n) {
            throw .replicas(namespace)
        }
        let positive: [(String, Int)] = [
            ("defaultR", defaultR), ("defaultW", defaultW), ("readRepairBurst", readRepairBurst),
            ("hintDeliveryBatch", hintDeliveryBatch), ("requestTimeoutMs", Int(clamping: requestTimeoutMs)),
            ("requestTimeoutMaxMs", Int(clamping: requestTimeoutMaxMs)), ("replicaTimeoutMs", Int(clamping: replicaTimeoutMs)),
            ("hintDeliveryIntervalMs", Int(clamping: hintDeliveryIntervalMs)),
            ("antiEntropyIntervalMs", Int(clamping: antiEntropyIntervalMs)), ("antiEntropyTimeoutMs", Int(clamping: antiEntropyTimeoutMs)),
            ("antiEntropyKeysPerExchange", antiEntropyKeysPerExchange), ("treeRebuildIntervalMs", Int(clamping: treeRebuildIntervalMs)),
            ("treeRecheckIntervalMs", Int(clamping: treeRecheckIntervalMs)),
            ("gossipIntervalMs", Int(clamping: gossipIntervalMs)),
        ]
        for (name, value) in positive where value <= 0 { throw .notPositive(name) }
        guard readRepairsPerSecond >= 0 else { throw .notPositive("readRepairsPerSecond") }
        guard phiThreshold > 0, phiThreshold.isFinite else { throw .notPositive("phiThreshold") }
        // The failure detector works in multiples of the interval: keep them far from overflow.
        guard gossipIntervalMs <= Self.gossipIntervalMsMax else { throw .tooLarge("gossipIntervalMs", max: Self.gossipIntervalMsMax) }
        guard address.utf8.count <= MemberRecord.addressBytesMax else { throw .addressTooLong(bytes: address.utf8.count) }
    }

    /// The longest gossip interval the node takes (an hour).
    public static let gossipIntervalMsMax: UInt64 = 3_600_000

    /// The largest N of any namespace: a partition's replicas for anti-entropy.
    public var replicationN: Int { (namespaces + [fallbackNamespace]).map(\.n).max() ?? 1 }

    /// The namespace of `key`.
    public func namespace(of key: [UInt8]) -> KeyNamespace {
        var best: KeyNamespace?
        for namespace in namespaces where key.starts(with: namespace.prefix) {
            if best == nil || namespace.prefix.count > best!.prefix.count { best = namespace }
        }
        return best ?? fallbackNamespace
    }
}
