import CartStorage

/// The node's durable checkout acceptor states (`CheckoutAcceptor`), one per checkout id, in
/// the engine's namespace 0x03: stored key `03 ‖ checkout id (UTF-8)`, value
/// `ClusterMessageCodec.encodeAcceptor` (data-format.md, "Checkout acceptor state").
///
/// Every change is written before the vote that depends on it is returned, and is durable
/// before that vote leaves the node, as for `ReplicaStore`: the engine syncs every write, or the
/// server's runtime syncs the WAL before a batch's effects go out (group commit). So a promise
/// or an acceptance survives a crash.
///
/// Thread safety: `Sendable` (immutable; the engine is thread-safe). The node's one driver
/// thread serializes read-modify-write of one id.
public struct CheckoutStore: Sendable {
    /// The namespace byte.
    public static let namespace: UInt8 = 0x03

    /// Why a state could not be read or written.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case storage(CheckoutID, StorageError)
        case malformed(CheckoutID, WireError)
        case unencodable(CheckoutID, WireError)
        case scan(StorageError)
        case malformedKey([UInt8])

        public var description: String {
            switch self {
            case let .storage(id, error): return "checkout \(id): storage: \(error)"
            case let .malformed(id, error): return "checkout \(id): malformed acceptor state: \(error)"
            case let .unencodable(id, error): return "checkout \(id): state does not encode: \(error)"
            case let .scan(error): return "checkout states: scan: \(error)"
            case let .malformedKey(key): return "checkout states: malformed stored key of \(key.count) bytes"
            }
        }
    }

    let engine: StorageEngine

    public init(engine: StorageEngine) {
        self.engine = engine
    }

    static func storedKey(_ id: CheckoutID) -> [UInt8] { [namespace] + Array(id.text.utf8) }

    /// The acceptor state of `id` (the initial state if none is stored).
    public func state(_ id: CheckoutID) throws(Failure) -> CheckoutAcceptor {
        let bytes: [UInt8]?
        do { bytes = try engine.get(Self.storedKey(id)) } catch { throw .storage(id, error) }
        guard let bytes else { return CheckoutAcceptor() }
        do { return try ClusterMessageCodec.decodeAcceptor(bytes) } catch { throw .malformed(id, error) }
    }

    /// Runs `change` on the state of `id` and stores the result durably if it changed. A failure
    /// to store leaves the outcome unknown (the write may be durable); the caller votes `.failed`.
    public func update<Result>(_ id: CheckoutID,
                               _ change: (inout CheckoutAcceptor) -> Result) throws(Failure) -> Result {
        var state = try state(id)
        let before = state
        let result = change(&state)
        guard state != before else { return result }
        precondition(state.checkInvariants() == nil, "acceptor transition broke an invariant: \(state.checkInvariants() ?? "")")
        let bytes: [UInt8]
        do { bytes = try ClusterMessageCodec.encodeAcceptor(state) } catch { throw .unencodable(id, error) }
        do { try engine.put(Self.storedKey(id), bytes) } catch { throw .storage(id, error) }
        return result
    }

    /// Every stored state, ascending by id bytes (the simulator's final checks, status pages).
    public func all() throws(Failure) -> [(CheckoutID, CheckoutAcceptor)] {
        var result: [(CheckoutID, CheckoutAcceptor)] = []
        let iterator: StorageIterator
        do { iterator = try engine.scan(from: [Self.namespace], to: [Self.namespace + 1]) } catch { throw .scan(error) }
        while true {
            let entry: (key: [UInt8], value: [UInt8])?
            do { entry = try iterator.nextEntry() } catch { throw .scan(error) }
            guard let entry else { break }
            guard let text = String(validating: entry.key.dropFirst(), as: UTF8.self), let id = try? CheckoutID(text) else {
                throw .malformedKey(entry.key)
            }
            do { result.append((id, try ClusterMessageCodec.decodeAcceptor(entry.value))) } catch { throw .malformed(id, error) }
        }
        return result
    }
}
