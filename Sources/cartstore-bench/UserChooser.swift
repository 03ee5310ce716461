import CartStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Draws the user (`0..<users`) of each `cartstore-bench http` operation, uniformly or from a
/// Zipfian distribution, using the caller's `SplitMix64` (so a seed fixes every connection's
/// sequence of users).
///
/// The Zipfian generator is Gray et al.'s ("Quickly generating billion-record synthetic
/// databases", SIGMOD 1994), as in YCSB's `ZipfianGenerator`: rank r is drawn with probability
/// proportional to 1 / (r + 1)^theta, and rank r is user r (unscrambled: user 0 is the hottest;
/// the ring hashes the keys anyway). Setup sums n terms once (about 1 ms per 100,000 users).
struct UserChooser: Sendable {
    /// YCSB's default skew.
    static let defaultTheta = 0.99

    let users: Int
    let distribution: KeyDistribution
    let theta: Double
    private let zetaN: Double
    private let alpha: Double
    private let eta: Double
    /// 1 + 0.5^theta: below it (times zetaN) the draw is rank 1.
    private let secondBound: Double

    init(users: Int, distribution: KeyDistribution, theta: Double = UserChooser.defaultTheta) {
        precondition(users >= 1, "users \(users)")
        self.users = users
        self.distribution = distribution
        self.theta = theta
        guard distribution == .zipf else {
            zetaN = 0; alpha = 0; eta = 0; secondBound = 0
            return
        }
        var zeta = 0.0
        for i in 1...users { zeta += 1 / pow(Double(i), theta) }
        let zeta2 = 1 + pow(0.5, theta)
        zetaN = zeta
        alpha = 1 / (1 - theta)
        eta = users > 2 ? (1 - pow(2 / Double(users), 1 - theta)) / (1 - zeta2 / zeta) : 0
        secondBound = zeta2
    }

    /// The next user, in `0..<users`.
    @inline(__always)
    func next(_ rng: inout SplitMix64) -> Int {
        switch distribution {
        case .uniform:
            return Int(rng.uniform(UInt64(users)))
        case .zipf:
            // Uniform in [0, 1) from the top 53 bits.
            let u = Double(rng.next() >> 11) * 0x1p-53
            let uz = u * zetaN
            if uz < 1 || users == 1 { return 0 }
            if uz < secondBound || users == 2 { return 1 }
            let rank = Double(users) * pow(eta * u - eta + 1, alpha)
            return rank >= Double(users - 1) ? users - 1 : max(0, Int(rank))
        }
    }

    /// `zipf (theta 0.99)` or `uniform`.
    var description: String {
        distribution == .zipf ? "zipf (theta \(Format.fixed(theta, 2)))" : "uniform"
    }
}
