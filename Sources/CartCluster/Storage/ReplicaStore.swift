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

    /// Why a store cannot be made over an engine.
    public enum ConfigurationError: Error, Hashable, Sendable {
        /// The engine does not sync before it acknowledges a write (its policy, as text).
        case acknowledgesUnsyncedWrites(policy: String)
    }

    /// A store over `engine`, which the caller opened and closes. `limits` must be the same on
    /// every node (cart bookkeeping depends on them).
    public init(engine: StorageEngine, limits: VersioningLimits = .default,
                allowUnsyncedAcks: Bool = false) throws(ConfigurationError) {
        if case .always = engine.options.sync {} else if !allowUnsyncedAcks {
            throw .acknowledgesUnsyncedWrites(policy: "\(engine.options.sync)")
        }
        self.engine = engine
        self.limits = limits
        self.stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    /// The record stored for `key`, or nil.
    public func read(_ key: [UInt8]) throws(ReplicaStoreError) -> StoredRecord? {
        try Self.check(key)
        return try read(stored: StorageKey.encode(key), key: key)
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
        let stripe = stripes[Int(truncatingIfNeeded: RingToken.of(key) % UInt64(Self.stripeCount))]
        let limits = limits
        return try stripe.lock.withLock { _ throws(ReplicaStoreError) -> Result<StoredRecord, Failure> in
            let current = try read(stored: stored, key: key)
            let outcome = body(current)
            guard case let .success(returned) = outcome else { return outcome }
            var next = returned
            if let current {
                guard let joined = current.merging(returned, limits: limits) else { throw .kindMismatch(key: Self.text(key)) }
                next = joined
            }
            if next != current { try write(next, stored: stored, key: key) }
            return .success(next)
        }
    }

    /// Every record of `partition` in stored-key order (one engine range scan), as
    /// (user key, record); stops early when `body` returns false.
    /// A malformed stored key or an unreadable record ends the scan with a typed error (a
    /// handoff must not mistake it for the end of the partition).
    public func forEach(inPartition partition: Int, of ring: Ring,
                        _ body: (_ key: [UInt8], _ record: StoredRecord) -> Bool) throws(ReplicaStoreError) {
        guard ring.contains(partition: partition) else { throw .noSuchPartition(partition, partitionCount: ring.partitionCount) }
        let range = StorageKey.range(ofPartition: partition, in: ring)
        let iterator: StorageIterator
        do { iterator = try engine.scan(from: range.from, to: range.to) } catch { throw .scan(partition: partition, error) }
        while true {
            let entry: (key: [UInt8], value: [UInt8])?
            do { entry = try iterator.nextEntry() } catch { throw .scan(partition: partition, error) }
            guard let entry else { return }
            guard let decodedKey = StorageKey.decode(entry.key[...]) else {
                throw .malformedStoredKey(partition: partition, bytes: entry.key)
            }
            let key = Array(decodedKey.key)
            let record: StoredRecord
            do { record = try RecordCodec.decode(entry.value, limits: limits) } catch {
                throw .undecodable(key: Self.text(key), error)
            }
            if !body(key, record) { return }
        }
    }

    // MARK: - Internals

    private func read(stored: [UInt8], key: [UInt8]) throws(ReplicaStoreError) -> StoredRecord? {
        let bytes: [UInt8]?
        do { bytes = try engine.get(stored) } catch { throw .storage(key: Self.text(key), error) }
        guard let bytes else { return nil }
        do { return try RecordCodec.decode(bytes, limits: limits) } catch { throw .undecodable(key: Self.text(key), error) }
    }

    private func write(_ record: StoredRecord, stored: [UInt8], key: [UInt8]) throws(ReplicaStoreError) {
        let bytes: [UInt8]
        do { bytes = try RecordCodec.encode(record, limits: limits) } catch { throw .unencodable(key: Self.text(key), error) }
        do { try engine.put(stored, bytes) } catch { throw .storage(key: Self.text(key), error) }
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
