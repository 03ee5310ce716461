import CartStorage
import CartVersioning
import Synchronization

/// Durable hints (hinted handoff): records a fallback node accepted for a replica that was
/// down, kept in the local engine under their own namespace until the owner takes them.
///
/// Stored as `01 ‖ be64 target ‖ user key` → `01 (format) ‖ be64 createdMs ‖ record`
/// (`data-format.md`, "Hints"). One hint per (target, key): a second write for the same key
/// joins into it, keeping the first creation time, so a hint's age is how long its owner has
/// been missing writes.
///
/// Bounds, per target (Cassandra learned that hints fill disks): a hint that would take the
/// target's hints past `bytesPerTargetMax` is refused (the write does not count toward W on this
/// fallback, so nothing acknowledged depends on it); a hint older than `ageMaxMs` is dropped by
/// `dropExpired` and counted: anti-entropy is then trusted with that key.
///
/// Thread safety: `Sendable`; the index is behind a mutex. The node calls it from one thread at
/// a time; the mutex keeps the index consistent with the engine for any caller.
public final class HintStore: Sendable {
    /// The namespace byte of hints, after every data key.
    public static let namespace: UInt8 = 0x01
    /// The hint value's format byte.
    public static let formatVersion: UInt8 = 1

    /// The per-target bounds.
    public struct Limits: Hashable, Sendable {
        /// Bytes of hints (keys and values) held for one target.
        public var bytesPerTargetMax: Int = 64 << 20
        /// Age after which a hint is dropped (Cassandra's `max_hint_window`: 3 h).
        public var ageMaxMs: UInt64 = 3 * 3_600_000
        public init() {}
    }

    /// One hint as read back.
    public struct Hint: Hashable, Sendable {
        public var target: NodeID
        public var key: [UInt8]
        public var record: StoredRecord
        public var createdMs: UInt64
    }

    /// What `store` did.
    public enum StoreOutcome: Hashable, Sendable {
        /// A new hint (`new`), or joined into the existing one.
        case stored(new: Bool)
        /// Over the target's byte bound: nothing stored.
        case refused(bytesHeld: Int, bytesMax: Int)
    }

    private struct Entry: Hashable, Sendable {
        var bytes: Int
        var createdMs: UInt64
    }

    private struct Index: Sendable {
        /// target → user key → entry.
        var byTarget: [NodeID: [[UInt8]: Entry]] = [:]
        var bytes: [NodeID: Int] = [:]
    }

    private let engine: StorageEngine
    public let limits: Limits
    private let versioning: VersioningLimits
    private let index = Mutex(Index())

    /// Opens the hints held in `engine`, rebuilding the index from one scan of the namespace.
    public init(engine: StorageEngine, limits: Limits = Limits(), versioning: VersioningLimits = .default)
        throws(HintStoreError) {
        self.engine = engine
        self.limits = limits
        self.versioning = versioning
        var rebuilt = Index()
        let iterator: StorageIterator
        do { iterator = try engine.scan(from: [Self.namespace], to: [Self.namespace + 1]) } catch { throw .storage(error) }
        while true {
            let entry: (key: [UInt8], value: [UInt8])?
            do { entry = try iterator.nextEntry() } catch { throw .storage(error) }
            guard let entry else { break }
            guard let (target, key) = Self.decodeKey(entry.key) else { throw .malformed(storedKey: entry.key) }
            guard let createdMs = Self.decodeCreated(entry.value) else { throw .malformed(storedKey: entry.key) }
            let bytes = entry.key.count + entry.value.count
            rebuilt.byTarget[target, default: [:]][key] = Entry(bytes: bytes, createdMs: createdMs)
            rebuilt.bytes[target, default: 0] += bytes
        }
        index.withLock { $0 = rebuilt }
    }

    /// Stores `record` as a hint of `key` for `target`, durably, joined with any hint already
    /// held for it.
    public func store(_ record: StoredRecord, key: [UInt8], for target: NodeID, nowMs: UInt64)
        throws(HintStoreError) -> StoreOutcome {
        let storedKey = Self.encodeKey(target: target, key: key)
        let existing = index.withLock { $0.byTarget[target]?[key] }
        var joined = record
        var createdMs = nowMs
        if let existing {
            createdMs = existing.createdMs
            if let held = try read(storedKey) {
                guard let merged = held.record.merging(record, limits: versioning) else { throw .kindMismatch(target: target) }
                if merged == held.record { return .stored(new: false) }
                joined = merged
            }
        }
        let value = try Self.encodeValue(joined, createdMs: createdMs, limits: versioning)
        let bytes = storedKey.count + value.count
        let held = index.withLock { $0.bytes[target] ?? 0 } - (existing?.bytes ?? 0)
        guard held + bytes <= limits.bytesPerTargetMax else {
            return .refused(bytesHeld: held + (existing?.bytes ?? 0), bytesMax: limits.bytesPerTargetMax)
        }
        do { try engine.put(storedKey, value) } catch { throw .storage(error) }
        index.withLock { index in
            index.byTarget[target, default: [:]][key] = Entry(bytes: bytes, createdMs: createdMs)
            index.bytes[target] = held + bytes
        }
        return .stored(new: existing == nil)
    }

    /// The targets with hints, ascending.
    public var targets: [NodeID] { index.withLock { $0.byTarget.keys.sorted() } }

    /// Hints held, in all.
    public var count: Int { index.withLock { $0.byTarget.values.reduce(0) { $0 + $1.count } } }

    /// Hints held for `target`.
    public func count(for target: NodeID) -> Int { index.withLock { $0.byTarget[target]?.count ?? 0 } }

    /// Bytes of hints held for `target`.
    public func bytes(for target: NodeID) -> Int { index.withLock { $0.bytes[target] ?? 0 } }

    /// Up to `limit` keys hinted for `target`, in byte order.
    public func keys(for target: NodeID, limit: Int) -> [[UInt8]] {
        index.withLock { index in
            guard let keys = index.byTarget[target]?.keys else { return [] }
            return Array(keys.sorted { $0.lexicographicallyPrecedes($1) }.prefix(limit))
        }
    }

    /// The hint of `key` for `target`, if held.
    public func hint(for target: NodeID, key: [UInt8]) throws(HintStoreError) -> Hint? {
        guard let (record, createdMs) = try read(Self.encodeKey(target: target, key: key)) else { return nil }
        return Hint(target: target, key: key, record: record, createdMs: createdMs)
    }

    /// Deletes the hint of `key` for `target` if it still holds exactly `delivered` (the owner
    /// acknowledged it); a hint that grew since it was sent stays for the next round. Returns
    /// true if deleted.
    @discardableResult
    public func remove(for target: NodeID, key: [UInt8], ifHolding delivered: StoredRecord) throws(HintStoreError) -> Bool {
        let storedKey = Self.encodeKey(target: target, key: key)
        guard let (record, _) = try read(storedKey), record == delivered else { return false }
        try delete(storedKey, target: target, key: key)
        return true
    }

    /// Drops every hint created more than `ageMaxMs` before `nowMs`; returns those dropped (the
    /// caller counts them: anti-entropy repairs those keys) and, if a delete failed, its error
    /// (that hint's fate is unknown; the rest were not tried and stay for the next call).
    public func dropExpired(nowMs: UInt64) -> (dropped: [(target: NodeID, key: [UInt8])], failure: HintStoreError?) {
        let expired = index.withLock { index in
            index.byTarget.flatMap { target, keys in
                keys.filter { nowMs >= $0.value.createdMs && nowMs - $0.value.createdMs > limits.ageMaxMs }
                    .map { (target: target, key: $0.key) }
            }
        }.sorted { $0.target != $1.target ? $0.target < $1.target : $0.key.lexicographicallyPrecedes($1.key) }
        var dropped: [(target: NodeID, key: [UInt8])] = []
        for hint in expired {
            do { try delete(Self.encodeKey(target: hint.target, key: hint.key), target: hint.target, key: hint.key) } catch {
                return (dropped, error)
            }
            dropped.append(hint)
        }
        return (dropped, nil)
    }

    // MARK: - Encoding

    static func encodeKey(target: NodeID, key: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [namespace]
        bytes.reserveCapacity(9 + key.count)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: target.value >> UInt64(shift))) }
        bytes.append(contentsOf: key)
        return bytes
    }

    static func decodeKey(_ stored: [UInt8]) -> (NodeID, [UInt8])? {
        guard stored.count >= 9, stored[0] == namespace else { return nil }
        let target = stored[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (NodeID(target), Array(stored[9...]))
    }

    static func encodeValue(_ record: StoredRecord, createdMs: UInt64, limits: VersioningLimits) throws(HintStoreError) -> [UInt8] {
        var bytes: [UInt8] = [formatVersion]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: createdMs >> UInt64(shift))) }
        do { bytes.append(contentsOf: try RecordCodec.encode(record, limits: limits)) } catch { throw .unencodable(error) }
        return bytes
    }

    static func decodeCreated(_ value: [UInt8]) -> UInt64? {
        guard value.count >= 9, value[0] == formatVersion else { return nil }
        return value[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private func read(_ storedKey: [UInt8]) throws(HintStoreError) -> (record: StoredRecord, createdMs: UInt64)? {
        let value: [UInt8]?
        do { value = try engine.get(storedKey) } catch { throw .storage(error) }
        guard let value else { return nil }
        guard let createdMs = Self.decodeCreated(value) else { throw .malformed(storedKey: storedKey) }
        do { return (try RecordCodec.decode(Array(value[9...]), limits: versioning), createdMs) } catch {
            throw .undecodable(storedKey: storedKey, error)
        }
    }

    private func delete(_ storedKey: [UInt8], target: NodeID, key: [UInt8]) throws(HintStoreError) {
        do { try engine.delete(storedKey) } catch { throw .storage(error) }
        index.withLock { index in
            guard let entry = index.byTarget[target]?.removeValue(forKey: key) else { return }
            index.bytes[target, default: 0] -= entry.bytes
            if index.byTarget[target]?.isEmpty == true {
                index.byTarget[target] = nil
                index.bytes[target] = nil
            }
        }
    }
}
