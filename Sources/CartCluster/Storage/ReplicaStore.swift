import CartStorage
import CartVersioning
import Synchronization

/// A node's replicas of the keys it holds, over its storage engine: each record is stored under
/// its `StorageKey`, and a replica never overwrites what it holds: it stores the join of what it
/// receives with what it has (`StoredRecord.merging`), so writes, repairs, hints and handoffs may
/// arrive in any order, any number of times.
///
/// Durability: a write returns once the engine has acknowledged it. Only an engine opened with
/// `sync = .always` makes that an fdatasync (and a coordinator may count the ack toward W only
/// then); `init` refuses any other unless `allowUnsyncedAcks` says the caller knows (tests,
/// benchmarks).
///
/// Thread safety: `Sendable`; any thread may call anything, but calls block on the disk, so the
/// request path runs them off the cooperative pool. The read-merge-write of one key is atomic
/// with respect to other writes of keys in the same lock stripe (keys are striped by token);
/// reads take no stripe lock and see a whole record or none. One store per engine (a second
/// store's stripes would not exclude this one's), and `update`'s body must not call the store.
///
/// Anti-entropy: the store keeps a `MerkleTree` of what it holds, updated by every write it
/// makes (all of them go through `update`), from the hashes of the stored bytes before and
/// after. A write whose outcome is unknown (the engine failed after the bytes may have reached
/// the disk) unbuilds its partition's tree; `rebuildTree` rebuilds an unbuilt partition from a
/// scan. A rebuild races no write: each partition counts writes begun and ended, and a scan is
/// installed only if no write to its partition began or was under way while it ran (otherwise
/// it is discarded and tried again later).
public final class ReplicaStore: Sendable {
    /// Lock stripes for read-merge-write.
    public static let stripeCount = 1_024
    /// Longest user key: the engine's key limit less the stored key's 9-byte prefix.
    public static let keyBytesMax = WriteBatch.keyBytesMax - 9

    private final class Stripe: Sendable {
        let lock = Mutex<Void>(())
    }

    private let engine: StorageEngine
    private let limits: VersioningLimits
    private let stripes: [Stripe]
    private let treeState: Mutex<TreeState>
    /// The anti-entropy tree's dimensions.
    public let treeShape: MerkleTree.Shape

    /// The tree and, per partition, the writes begun and ended (`rebuildTree`'s race check).
    private struct TreeState: Sendable {
        var tree: MerkleTree
        var begun: [UInt64]
        var ended: [UInt64]
    }

    /// Why a store cannot be made over an engine.
    public enum ConfigurationError: Error, Hashable, Sendable {
        /// The engine does not sync before it acknowledges a write (its policy, as text).
        case acknowledgesUnsyncedWrites(policy: String)
    }

    /// A store over `engine`, which the caller opened and closes. `limits` must be the same on
    /// every node (cart bookkeeping depends on them), and so must `treeShape` (whose partition
    /// bits are the ring's). The tree starts unbuilt.
    public init(engine: StorageEngine, limits: VersioningLimits = .default, treeShape: MerkleTree.Shape = .default,
                allowUnsyncedAcks: Bool = false) throws(ConfigurationError) {
        if case .always = engine.options.sync {} else if !allowUnsyncedAcks {
            throw .acknowledgesUnsyncedWrites(policy: "\(engine.options.sync)")
        }
        self.engine = engine
        self.limits = limits
        self.stripes = (0..<Self.stripeCount).map { _ in Stripe() }
        self.treeShape = treeShape
        let zeros = [UInt64](repeating: 0, count: treeShape.partitionCount)
        treeState = Mutex(TreeState(tree: MerkleTree(shape: treeShape), begun: zeros, ended: zeros))
    }

    /// The record stored for `key`, or nil.
    public func read(_ key: [UInt8]) throws(ReplicaStoreError) -> StoredRecord? {
        try Self.check(key)
        return try read(stored: StorageKey.encode(key), key: key)?.record
    }

    /// Stores the join of `incoming` with what is stored for `key`, and returns it. Nothing is
    /// stored if it would not change (an old or duplicate delivery costs no write).
    @discardableResult
    public func merge(_ key: [UInt8], _ incoming: StoredRecord) throws(ReplicaStoreError) -> StoredRecord {
        let limits = limits
        let outcome = try update(key) { current -> Result<StoredRecord, ReplicaStoreError> in
            guard let current else { return .success(incoming) }
            guard let merged = current.merging(incoming, limits: limits) else { return .failure(.kindMismatch(key: Self.text(key))) }
            return .success(merged)
        }
        return try outcome.get()
    }

    /// Runs `body` on what is stored for `key` and stores the join of what is stored with the
    /// record it returns (a replica never loses what it holds, whatever `body` returns),
    /// atomically with respect to other updates of `key`: a coordinator applies a client's
    /// operation this way, on the replica's own state. Returns what is stored afterwards. If
    /// `body` fails, nothing is stored and its failure is returned; the store's own failures
    /// (including a record of the other kind: `kindMismatch`) are thrown.
    public func update<Failure: Error>(_ key: [UInt8], _ body: (StoredRecord?) -> Result<StoredRecord, Failure>)
        throws(ReplicaStoreError) -> Result<StoredRecord, Failure> {
        try Self.check(key)
        let stored = StorageKey.encode(key)
        let token = RingToken.of(key)
        let stripe = stripes[Int(truncatingIfNeeded: token % UInt64(Self.stripeCount))]
        let limits = limits
        return try stripe.lock.withLock { _ throws(ReplicaStoreError) -> Result<StoredRecord, Failure> in
            let held = try read(stored: stored, key: key)
            let current = held?.record
            let outcome = body(current)
            guard case let .success(returned) = outcome else { return outcome }
            var next = returned
            if let current {
                guard let joined = current.merging(returned, limits: limits) else { throw .kindMismatch(key: Self.text(key)) }
                next = joined
            }
            if next != current {
                let removing = held.map { MerkleTree.hash(storedKey: stored, value: $0.bytes) } ?? 0
                try write(next, stored: stored, key: key, token: token, removing: removing)
            }
            return .success(next)
        }
    }

    // MARK: - Anti-entropy

    /// `partition`'s root hash, or nil while its tree is unbuilt.
    public func treeRoot(partition: Int) -> UInt64? {
        treeState.withLock { $0.tree.isBuilt(partition) ? $0.tree.root(partition: partition) : nil }
    }

    /// The hashes of nodes `indices` at `level` of `partition`'s tree, or nil while it is
    /// unbuilt. Precondition: each (level, index) is in `treeShape` (check peers' input first).
    public func treeHashes(partition: Int, level: Int, indices: [Int]) -> [UInt64]? {
        treeState.withLock { state in
            guard state.tree.isBuilt(partition) else { return nil }
            return indices.map { state.tree.hash(partition: partition, level: level, index: $0) }
        }
    }

    /// Partitions whose trees are built, of `treeShape.partitionCount`.
    public var treePartitionsBuilt: Int { treeState.withLock { $0.tree.builtCount } }

    /// The first unbuilt partition at or after `from` (wrapping), or nil if all are built.
    public func unbuiltPartition(from: Int) -> Int? {
        treeState.withLock { state in
            let count = treeShape.partitionCount
            for offset in 0..<count where !state.tree.isBuilt((from + offset) % count) { return (from + offset) % count }
            return nil
        }
    }

    /// A copy of the tree (tests, the simulator's checks).
    public var treeSnapshot: MerkleTree { treeState.withLock { $0.tree } }

    /// Rebuilds `partition`'s tree from one scan of its entries (bytes only, nothing decoded).
    /// Returns true if installed, false if a write to the partition began or was under way
    /// while it scanned (nothing installed: try again later). A scan failure is thrown and
    /// leaves the partition unbuilt.
    @discardableResult
    public func rebuildTree(partition: Int) throws(ReplicaStoreError) -> Bool {
        let shape = treeShape
        guard (0..<shape.partitionCount).contains(partition) else {
            throw .noSuchPartition(partition, partitionCount: shape.partitionCount)
        }
        let before = treeState.withLock { state -> UInt64? in state.begun[partition] == state.ended[partition] ? state.begun[partition] : nil }
        guard let before else { return false }
        let leaves = try scanLeaves(partition: partition)
        return treeState.withLock { state in
            guard state.begun[partition] == before, state.ended[partition] == before else { return false }
            state.tree.install(partition: partition, leaves: leaves)
            return true
        }
    }

    /// `partition`'s leaf hashes computed from a scan of what is stored (the rebuild, and the
    /// check that the incrementally kept tree is right).
    public func scanLeaves(partition: Int) throws(ReplicaStoreError) -> [UInt64] {
        let shape = treeShape
        guard (0..<shape.partitionCount).contains(partition) else {
            throw .noSuchPartition(partition, partitionCount: shape.partitionCount)
        }
        var leaves = [UInt64](repeating: 0, count: shape.leavesPerPartition)
        let first = partition * shape.leavesPerPartition
        let tokens = shape.tokenRange(partition: partition, leaf: 0).lowerBound
            ... shape.tokenRange(partition: partition, leaf: shape.leavesPerPartition - 1).upperBound
        try scanEntries(tokens: tokens, partition: partition) { stored, token, value in
            leaves[shape.leaf(of: token) - first] ^= MerkleTree.hash(storedKey: stored, value: value)
            return true
        }
        return leaves
    }

    /// A description of the first built partition whose kept leaves differ from a rescan, or
    /// nil. Runs one scan per built partition: for tests and the simulator, never on a path
    /// that serves requests. Call it with no write under way.
    public func verifyTree() throws(ReplicaStoreError) -> String? {
        let tree = treeSnapshot
        if let problem = tree.checkInvariants() { return problem }
        for partition in 0..<treeShape.partitionCount where tree.isBuilt(partition) {
            let scanned = try scanLeaves(partition: partition)
            for (leaf, hash) in scanned.enumerated() where tree.leaf(partition: partition, leaf) != hash {
                return "partition \(partition) leaf \(leaf): kept \(tree.leaf(partition: partition, leaf)), scanned \(hash)"
            }
        }
        return nil
    }

    /// The digests of every key this store holds in leaf `leaf` of `partition`, in stored-key
    /// order. Precondition: the leaf is in `treeShape` (check peers' input first).
    public func digests(partition: Int, leaf: Int) throws(ReplicaStoreError) -> [KeyDigest] {
        var digests: [KeyDigest] = []
        try scanEntries(tokens: treeShape.tokenRange(partition: partition, leaf: leaf), partition: partition) { stored, _, value in
            digests.append(KeyDigest(key: Array(stored.dropFirst(9)), hash: MerkleTree.hash(storedKey: stored, value: value)))
            return true
        }
        return digests
    }

    /// Calls `body` with each stored data entry whose token is in `tokens` (stored key, token,
    /// value bytes), in stored-key order, until it returns false. A malformed stored key ends
    /// the scan with a typed error.
    private func scanEntries(tokens: ClosedRange<UInt64>, partition: Int,
                             _ body: (_ stored: [UInt8], _ token: UInt64, _ value: [UInt8]) -> Bool) throws(ReplicaStoreError) {
        let range = StorageKey.range(ofTokens: tokens)
        let iterator: StorageIterator
        do { iterator = try engine.scan(from: range.from, to: range.to) } catch { throw .scan(partition: partition, error) }
        while true {
            let entry: (key: [UInt8], value: [UInt8])?
            do { entry = try iterator.nextEntry() } catch { throw .scan(partition: partition, error) }
            guard let entry else { return }
            guard let decoded = StorageKey.decode(entry.key[...]) else {
                throw .malformedStoredKey(partition: partition, bytes: entry.key)
            }
            if !body(entry.key, decoded.token, entry.value) { return }
        }
    }

    /// Every record of `partition` in stored-key order (one engine range scan), as
    /// (user key, record); stops early when `body` returns false.
    /// A malformed stored key or an unreadable record ends the scan with a typed error (a
    /// handoff must not mistake it for the end of the partition).
    public func forEach(inPartition partition: Int, of ring: Ring,
                        _ body: (_ key: [UInt8], _ record: StoredRecord) -> Bool) throws(ReplicaStoreError) {
        guard ring.contains(partition: partition) else { throw .noSuchPartition(partition, partitionCount: ring.partitionCount) }
        let limits = limits
        var failure: ReplicaStoreError?
        try scanEntries(tokens: ring.tokenRange(ofPartition: partition), partition: partition) { stored, _, value in
            let key = Array(stored.dropFirst(9))
            do throws(RecordCodecError) { return body(key, try RecordCodec.decode(value, limits: limits)) } catch {
                failure = .undecodable(key: Self.text(key), error)
                return false
            }
        }
        if let failure { throw failure }
    }

    // MARK: - Internals

    private func read(stored: [UInt8], key: [UInt8]) throws(ReplicaStoreError) -> (record: StoredRecord, bytes: [UInt8])? {
        let bytes: [UInt8]?
        do { bytes = try engine.get(stored) } catch { throw .storage(key: Self.text(key), error) }
        guard let bytes else { return nil }
        do { return (try RecordCodec.decode(bytes, limits: limits), bytes) } catch { throw .undecodable(key: Self.text(key), error) }
    }

    /// Stores `record` and moves the tree's leaf from the entry hash `removing` (0: no entry
    /// before) to the new one. A failed put unbuilds the partition's tree: the bytes may or may
    /// not be on disk, so only a rescan knows the leaf.
    private func write(_ record: StoredRecord, stored: [UInt8], key: [UInt8], token: UInt64, removing: UInt64) throws(ReplicaStoreError) {
        let bytes: [UInt8]
        do { bytes = try RecordCodec.encode(record, limits: limits) } catch { throw .unencodable(key: Self.text(key), error) }
        let adding = MerkleTree.hash(storedKey: stored, value: bytes)
        let partition = treeShape.partition(ofLeaf: treeShape.leaf(of: token))
        treeState.withLock { $0.begun[partition] += 1 }
        do { try engine.put(stored, bytes) } catch {
            treeState.withLock { state in
                state.tree.invalidate(partition: partition)
                state.ended[partition] += 1
            }
            throw .storage(key: Self.text(key), error)
        }
        treeState.withLock { state in
            state.tree.update(token: token, removing: removing, adding: adding)
            state.ended[partition] += 1
        }
    }

    /// The key as an error names it: at most its first 128 bytes, as text.
    static func text(_ key: [UInt8]) -> String {
        let shown = String(decoding: key.prefix(128), as: UTF8.self)
        return key.count > 128 ? shown + "… (\(key.count) bytes)" : shown
    }

    private static func check(_ key: [UInt8]) throws(ReplicaStoreError) {
        guard key.count <= keyBytesMax else { throw .keyTooLong(bytes: key.count, max: keyBytesMax) }
    }
}
