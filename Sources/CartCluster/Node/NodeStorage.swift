import CartStorage
import CartVersioning

/// A node's durable state over one engine: its replicas (`ReplicaStore`, data namespace 0x00),
/// its hints (`HintStore`, namespace 0x01), its metadata (namespace 0x02: the replica epoch) and
/// its checkout acceptor states (`CheckoutStore`, namespace 0x03).
///
/// The replica id is (node id, epoch). A directory without an epoch (a new or wiped node) takes
/// a fresh one, `freshEpoch`, which must differ from every epoch this node id used before (the
/// driver passes the wall clock in seconds), so that a node that lost its data never reissues
/// the dots of its earlier life (Riak's kv679). A restart on surviving data keeps its epoch:
/// every dot it issued is in its durable records, which is where `issuedCounter` comes from.
///
/// Thread safety: `Sendable` (every part is).
public final class NodeStorage: Sendable {
    /// The metadata namespace byte.
    public static let metaNamespace: UInt8 = 0x02
    /// The stored key of the epoch: `02 ‖ "epoch"`; value: be32.
    static let epochKey: [UInt8] = [metaNamespace] + Array("epoch".utf8)
    /// The stored key of the last gossip generation: `02 ‖ "generation"`; value: be64.
    static let generationKey: [UInt8] = [metaNamespace] + Array("generation".utf8)

    public let engine: StorageEngine
    public let replicas: ReplicaStore
    public let hints: HintStore
    public let checkouts: CheckoutStore
    /// This node's replica id for this directory's life.
    public let replicaID: ReplicaID
    /// This start's gossip generation: above every generation this directory started with
    /// before, whatever the clock did (`max(startMs, previous + 1)`), stored durably at open.
    public let generation: UInt64

    /// Why a node's storage could not open.
    public enum OpenError: Error, Sendable, CustomStringConvertible {
        case configuration(ReplicaStore.ConfigurationError)
        case hints(HintStoreError)
        case storage(StorageError)
        case malformedEpoch([UInt8])
        case malformedGeneration([UInt8])

        public var description: String {
            switch self {
            case let .configuration(error): return "node storage: \(error)"
            case let .hints(error): return "node storage: \(error)"
            case let .storage(error): return "node storage: epoch: \(error)"
            case let .malformedEpoch(bytes): return "node storage: malformed epoch record (\(bytes.count) bytes, expected 4)"
            case let .malformedGeneration(bytes): return "node storage: malformed generation record (\(bytes.count) bytes, expected 8)"
            }
        }
    }

    /// Opens the node's state in `engine` (opened and later closed by the caller).
    /// `treeShape` is the anti-entropy tree's (its partition bits must be the ring's); `startMs`
    /// (the wall clock) seeds the gossip generation.
    public init(engine: StorageEngine, node: NodeID, freshEpoch: UInt32, startMs: UInt64 = 0, versioning: VersioningLimits = .default,
                treeShape: MerkleTree.Shape = .default, hintLimits: HintStore.Limits = HintStore.Limits(),
                allowUnsyncedAcks: Bool = false) throws(OpenError) {
        self.engine = engine
        do {
            replicas = try ReplicaStore(engine: engine, limits: versioning, treeShape: treeShape, allowUnsyncedAcks: allowUnsyncedAcks)
        } catch {
            throw .configuration(error)
        }
        checkouts = CheckoutStore(engine: engine)
        do { hints = try HintStore(engine: engine, limits: hintLimits, versioning: versioning) } catch { throw .hints(error) }
        let stored: [UInt8]?
        do { stored = try engine.get(Self.epochKey) } catch { throw .storage(error) }
        let epoch: UInt32
        if let stored {
            guard stored.count == 4 else { throw .malformedEpoch(stored) }
            epoch = stored.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        } else {
            epoch = freshEpoch
            var writer = WireWriter()
            writer.u32(epoch)
            do { try engine.put(Self.epochKey, writer.bytes) } catch { throw .storage(error) }
        }
        replicaID = ReplicaID(node: node.value, epoch: epoch)
        let previous: [UInt8]?
        do { previous = try engine.get(Self.generationKey) } catch { throw .storage(error) }
        var floor: UInt64 = 0
        if let previous {
            guard previous.count == 8 else { throw .malformedGeneration(previous) }
            floor = previous.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        // A stored generation of UInt64.max stays: the next start reuses it (views then keep the
        // old record until heartbeats pass it), rather than wrapping to 0.
        generation = max(startMs, floor == .max ? floor : floor + 1)
        var writer = WireWriter()
        writer.u64(generation)
        do {
            try engine.put(Self.generationKey, writer.bytes)
            try engine.syncWAL()
        } catch {
            throw .storage(error)
        }
    }
}
