import Histogram

/// Number formatting without Foundation. "MB" is 2^20 bytes throughout, as in db_bench.
enum Format {
    static let mebibyte = 1_048_576.0

    /// `x` with exactly `digits` decimals.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.description }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e18 else { return x.description }
        let n = UInt64(scaled)
        let p = UInt64(scale)
        let whole = n / p
        var s = (x < 0 && n != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let frac = String(n % p)
            s += "." + String(repeating: "0", count: digits - frac.count) + frac
        }
        return s
    }

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func megabytes(_ bytes: UInt64) -> String { fixed(Double(bytes) / mebibyte, 1) + " MB" }

    static func microseconds(_ nanoseconds: UInt64) -> String { fixed(Double(nanoseconds) / 1000, 2) }

    /// The per-workload result line, shared with `Benchmarks/peers/leveldb_bench.cc` (keep the
    /// two in step; `tools/bench-vs-peers` parses it):
    /// `NAME : OPS ops/s MB MB/s p50 X p99 X p99.9 X max X us [found F/N] [wamp W] [disk D MB]`
    static func resultLine(name: String, stats: ThreadStats, nanoseconds: UInt64, extra: [String]) -> String {
        let seconds = Double(max(nanoseconds, 1)) / 1e9
        let h = stats.latency
        var parts = [
            padRight(name, 12) + " :",
            padLeft(fixed(Double(stats.ops) / seconds, 0), 10) + " ops/s",
            padLeft(fixed(Double(stats.bytes) / mebibyte / seconds, 1), 7) + " MB/s",
            " p50 " + microseconds(h.valueAtPercentile(50)),
            "p99 " + microseconds(h.valueAtPercentile(99)),
            "p99.9 " + microseconds(h.valueAtPercentile(99.9)),
            "max " + microseconds(h.totalCount == 0 ? 0 : h.maxRecorded) + " us",
        ]
        parts.append(contentsOf: extra)
        return parts.joined(separator: " ")
    }
}
