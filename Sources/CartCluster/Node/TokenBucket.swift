/// A rate limit: `ratePerSecond` tokens a second, at most `burst` saved; time is passed in.
struct TokenBucket: Hashable, Sendable {
    let ratePerSecond: Int
    let burst: Int
    /// Tokens, in thousandths (one token per second refills one thousandth per ms).
    private var milliTokens: Int
    private var lastMs: UInt64?

    init(ratePerSecond: Int, burst: Int) {
        precondition(ratePerSecond >= 0 && burst >= 0, "rate \(ratePerSecond), burst \(burst)")
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        milliTokens = burst * 1_000
    }

    /// Takes a token if one is available at `nowMs`.
    mutating func take(nowMs: UInt64) -> Bool {
        if let lastMs, nowMs > lastMs {
            let elapsed = Int(min(nowMs - lastMs, 3_600_000))
            milliTokens = min(burst * 1_000, milliTokens + elapsed * ratePerSecond)
        }
        lastMs = max(lastMs ?? nowMs, nowMs)
        guard milliTokens >= 1_000 else { return false }
        milliTokens -= 1_000
        return true
    }
}
