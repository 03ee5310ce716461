import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every connection of one `cartstore-bench http` run needs to build its requests:
/// immutable and shared by all of them.
struct HTTPLoadPlan: Sendable {
    /// What the connections do.
    enum Mode: Sendable, Equatable {
        /// The `--mix` of operations on users from `users`, until told to stop.
        case timed
        /// One add to each of users `0..<count`, claimed in order by whichever connection is
        /// free; each connection stops when none is left.
        case fill(count: Int)
    }

    let mode: Mode
    let mix: OperationMix
    let users: UserChooser
    /// The per-user SKU space: `sku-0`, `sku-1`, ….
    let skuNames: [String]
    /// The body of an add of each SKU (one unit, with a name and a price).
    let addBodies: [ByteBuffer]
    /// `?r=..&w=..` or empty: appended to every request's path.
    let query: String
    /// Connection i draws from `SplitMix64(seed: seed + i)`.
    let seed: UInt64
    /// Prefix of every `Idempotency-Key`, unique to this process, so that a rerun with the same
    /// seed is not answered from the idempotency records of an earlier run.
    let runID: String
    /// A request unanswered this long is abandoned as a `timeout` (its connection is closed).
    let timeoutNanoseconds: UInt64
    let connectTimeout: TimeAmount
    /// Delay before reconnecting after a failure.
    let reconnectDelay: TimeAmount

    init(mode: Mode, mix: OperationMix, users: UserChooser, skus: Int, readQuorum: Int?, writeQuorum: Int?,
         seed: UInt64, runID: String, timeoutSeconds: Int) {
        self.mode = mode
        self.mix = mix
        self.users = users
        skuNames = (0..<skus).map { "sku-\($0)" }
        addBodies = (0..<skus).map { i in
            ByteBuffer(string: "{\"sku\":\"sku-\(i)\",\"quantity\":1,\"name\":\"Bench item \(i)\",\"priceMinor\":\(999 + 100 * i)}")
        }
        var parameters: [String] = []
        if let readQuorum { parameters.append("r=\(readQuorum)") }
        if let writeQuorum { parameters.append("w=\(writeQuorum)") }
        query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        self.seed = seed
        self.runID = runID
        timeoutNanoseconds = UInt64(timeoutSeconds) * 1_000_000_000
        connectTimeout = .seconds(5)
        reconnectDelay = .milliseconds(100)
    }

    /// A run id from the wall clock and the process id (base 36; `Idempotency-Key` allows
    /// visible ASCII).
    static func makeRunID() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let micros = UInt64(ts.tv_sec) &* 1_000_000 &+ UInt64(ts.tv_nsec / 1000)
        let mixed = micros ^ (UInt64(UInt32(bitPattern: getpid())) << 44)
        return "b" + String(mixed, radix: 36)
    }
}
