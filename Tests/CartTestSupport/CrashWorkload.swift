/// The deterministic workload of the crash test, shared by the child process that writes it
/// (`cartstore-crash-helper`) and the test that checks what survived a SIGKILL.
///
/// Thread `t` of round seed `s` writes batches 0, 1, 2, …; batch `n` is a pure function of
/// (s, t, n), and touches only keys owned by thread `t`, so the expected state after batches
/// 0...n of every thread can be recomputed by the checker.
public struct CrashWorkload: Sendable {
    public enum Op: Equatable, Sendable {
        case put(key: String, value: [UInt8])
        case delete(key: String)

        public var key: String {
            switch self {
            case let .put(k, _), let .delete(k): return k
            }
        }
    }

    public let seed: UInt64
    public let keysPerThread: Int

    public init(seed: UInt64, keysPerThread: Int = 64) {
        self.seed = seed
        self.keysPerThread = keysPerThread
    }

    public static func key(thread: Int, index: Int) -> String {
        "t\(thread)-key-\(index < 10 ? "00" : index < 100 ? "0" : "")\(index)"
    }

    /// The operations of batch `n` of thread `thread`.
    public func batch(thread: Int, number n: Int) -> [Op] {
        var r = SeededRandom(seed: SeededRandom.derive(seed, UInt64(thread), UInt64(n)))
        let count = Int(r.next() % 4) + 1
        var ops: [Op] = []
        var used = Set<Int>()
        for i in 0..<count {
            let k = Int(r.next() % UInt64(keysPerThread))
            if used.contains(k) { continue }
            used.insert(k)
            let key = Self.key(thread: thread, index: k)
            if r.next() % 100 < 15 {
                ops.append(.delete(key: key))
            } else {
                let roll = r.next() % 100
                let size = roll < 2 ? Int(r.next() % 40_000) : Int(r.next() % 300)
                var value = Array("t\(thread)-n\(n)-op\(i)-".utf8)
                for j in 0..<size { value.append(UInt8(truncatingIfNeeded: r.next() &+ UInt64(j)) | 0x20 & 0x7f) }
                ops.append(.put(key: key, value: value))
            }
        }
        return ops
    }

    /// Applies batch `n` of `thread` to a model.
    public func apply(thread: Int, number n: Int, to model: inout [String: [UInt8]]) {
        for op in batch(thread: thread, number: n) {
            switch op {
            case let .put(k, v): model[k] = v
            case let .delete(k): model[k] = nil
            }
        }
    }
}
