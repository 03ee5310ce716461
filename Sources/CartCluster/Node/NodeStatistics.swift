/// What a node counted since it started (the runtime exports these as metrics).
public struct NodeStatistics: Hashable, Sendable {
    public var clientRequests = 0
    public var forwarded = 0
    public var coordinatedReads = 0
    public var coordinatedWrites = 0
    public var rejected = 0
    public var unavailable = 0
    public var storageFailures = 0
    public var readRepairsSent = 0
    /// Read repairs over the rate limit, not sent.
    public var readRepairsSkipped = 0
    /// Writes sent to a fallback for a suspected or silent replica.
    public var sloppyWrites = 0
    /// Hints taken as a fallback: new (target, key) entries.
    public var hintsStored = 0
    /// Hints of unknown fate: a store, or the delete after a delivery, failed after it may
    /// have reached the disk.
    public var hintsUnknown = 0
    /// Hints refused over their target's byte bound.
    public var hintsRefused = 0
    public var hintsDelivered = 0
    /// Hints dropped past their age bound.
    public var hintsDropped = 0
    public var suspicions = 0
    /// Anti-entropy exchanges this node started; those that found the partition in sync at the
    /// root, those that got down to keys, and those forgotten past their timeout or refused
    /// by a peer whose tree was not built.
    public var antiEntropyExchanges = 0
    public var antiEntropyInSync = 0
    public var antiEntropyDescents = 0
    public var antiEntropyAbandoned = 0
    /// Records this node sent to a peer in anti-entropy (keys the peer lacked or held
    /// differently), and records it received as repairs (read repair or anti-entropy).
    public var antiEntropyKeysSent = 0
    public var repairsReceived = 0
    /// Partition trees rebuilt from a scan, and rebuilds that failed (a scan error).
    public var treeRebuilds = 0
    public var treeRebuildFailures = 0
    /// Checkouts this node coordinated; those answered with an order (and of them, those whose
    /// order an earlier attempt decided); Paxos rounds retried after a refusal; and checkouts
    /// that ended without an order (refused, unavailable, or timed out).
    public var checkouts = 0
    public var checkoutsCompleted = 0
    public var checkoutsReplayed = 0
    public var checkoutRetries = 0
    public var checkoutsFailed = 0
    /// Decided orders sent to acceptors that lacked them, after an order read.
    public var orderRepairs = 0
    /// Gossip rounds started, and member records that advanced this node's view.
    public var gossipRounds = 0
    public var gossipRecordsMerged = 0

    public init() {}

    /// The sum of two counts (a node's incarnations, or a cluster's nodes).
    public static func + (lhs: NodeStatistics, rhs: NodeStatistics) -> NodeStatistics {
        var sum = lhs
        sum.clientRequests += rhs.clientRequests
        sum.forwarded += rhs.forwarded
        sum.coordinatedReads += rhs.coordinatedReads
        sum.coordinatedWrites += rhs.coordinatedWrites
        sum.rejected += rhs.rejected
        sum.unavailable += rhs.unavailable
        sum.storageFailures += rhs.storageFailures
        sum.readRepairsSent += rhs.readRepairsSent
        sum.readRepairsSkipped += rhs.readRepairsSkipped
        sum.sloppyWrites += rhs.sloppyWrites
        sum.hintsStored += rhs.hintsStored
        sum.hintsUnknown += rhs.hintsUnknown
        sum.hintsRefused += rhs.hintsRefused
        sum.hintsDelivered += rhs.hintsDelivered
        sum.hintsDropped += rhs.hintsDropped
        sum.checkouts += rhs.checkouts
        sum.checkoutsCompleted += rhs.checkoutsCompleted
        sum.checkoutsReplayed += rhs.checkoutsReplayed
        sum.checkoutRetries += rhs.checkoutRetries
        sum.checkoutsFailed += rhs.checkoutsFailed
        sum.orderRepairs += rhs.orderRepairs
        sum.gossipRounds += rhs.gossipRounds
        sum.gossipRecordsMerged += rhs.gossipRecordsMerged
        sum.suspicions += rhs.suspicions
        sum.antiEntropyExchanges += rhs.antiEntropyExchanges
        sum.antiEntropyInSync += rhs.antiEntropyInSync
        sum.antiEntropyDescents += rhs.antiEntropyDescents
        sum.antiEntropyAbandoned += rhs.antiEntropyAbandoned
        sum.antiEntropyKeysSent += rhs.antiEntropyKeysSent
        sum.repairsReceived += rhs.repairsReceived
        sum.treeRebuilds += rhs.treeRebuilds
        sum.treeRebuildFailures += rhs.treeRebuildFailures
        return sum
    }
}
