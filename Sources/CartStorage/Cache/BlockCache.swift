import Synchronization

/// A cache of decoded (uncompressed, checksum-verified) data blocks shared by every segment of
/// an engine, bounded in bytes. Eviction is CLOCK (second chance), sharded 16 ways to keep lock
/// hold times short.
///
/// Thread safety: all methods may be called from any thread.
public final class BlockCache: @unchecked Sendable {
    struct Key: Hashable {
        let fileNumber: UInt64
        let offset: UInt64
    }

    struct Slot {
        var key: Key
        var block: Block
        var charge: Int
        var referenced: Bool
    }

    struct Shard {
        var map: [Key: Int] = [:]
        var slots: [Slot?] = []
        var free: [Int] = []
        var hand = 0
        var usedBytes = 0
        var hits: UInt64 = 0
        var misses: UInt64 = 0
    }

    /// One lock-protected shard (a class, since `Mutex` cannot live in an array).
    final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    static let shardCount = 16
    /// Capacity in bytes across all shards.
    public let capacityBytes: Int
    private let shardCapacityBytes: Int
    private let shards: [ShardBox]

    public init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
        self.shardCapacityBytes = max(1, capacityBytes / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in ShardBox() }
    }

    private func shard(_ k: Key) -> Int {
        Int(truncatingIfNeeded: (k.fileNumber &* 0x9E37_79B9_7F4A_7C15 ^ k.offset) >> 7) & (Self.shardCount - 1)
    }

    func get(fileNumber: UInt64, offset: UInt64) -> Block? {
        let k = Key(fileNumber: fileNumber, offset: offset)
        return shards[shard(k)].state.withLock { s -> Block? in
            guard let i = s.map[k], let slot = s.slots[i] else { s.misses += 1; return nil }
            s.slots[i]?.referenced = true
            s.hits += 1
            return slot.block
        }
    }

    func insert(fileNumber: UInt64, offset: UInt64, block: Block, charge: Int) {
        let k = Key(fileNumber: fileNumber, offset: offset)
        let cap = shardCapacityBytes
        guard charge <= cap else { return }
        shards[shard(k)].state.withLock { s in
            if s.map[k] != nil { return }
            while s.usedBytes + charge > cap, !s.map.isEmpty { Self.evictOne(&s) }
            let slot = Slot(key: k, block: block, charge: charge, referenced: false)
            let i: Int
            if let f = s.free.popLast() { s.slots[f] = slot; i = f } else { s.slots.append(slot); i = s.slots.count - 1 }
            s.map[k] = i
            s.usedBytes += charge
        }
    }

    private static func evictOne(_ s: inout Shard) {
        // Bounded: at most two sweeps (the first clears reference bits).
        for _ in 0..<(2 * s.slots.count + 1) {
            if s.hand >= s.slots.count { s.hand = 0 }
            let i = s.hand
            s.hand += 1
            guard let slot = s.slots[i] else { continue }
            if slot.referenced {
                s.slots[i]?.referenced = false
                continue
            }
            s.map[slot.key] = nil
            s.slots[i] = nil
            s.free.append(i)
            s.usedBytes -= slot.charge
            return
        }
    }

    /// Drops every block of a deleted segment.
    func evict(fileNumber: UInt64) {
        for m in shards {
            m.state.withLock { s in
                for i in s.slots.indices {
                    guard let slot = s.slots[i], slot.key.fileNumber == fileNumber else { continue }
                    s.map[slot.key] = nil
                    s.usedBytes -= slot.charge
                    s.slots[i] = nil
                    s.free.append(i)
                }
            }
        }
    }

    /// Bytes currently held, hits and misses since creation.
    public var statistics: (usedBytes: Int, hits: UInt64, misses: UInt64) {
        var used = 0
        var hits: UInt64 = 0, misses: UInt64 = 0
        for m in shards {
            m.state.withLock { s in used += s.usedBytes; hits += s.hits; misses += s.misses }
        }
        return (used, hits, misses)
    }
}
