import ArgumentParser
import CartStorage

/// `--mix add=50,get=40,remove=10`: the relative weights of the operations of
/// `cartstore-bench http`. Omitted operations weigh 0; the weights need not sum to 100.
struct OperationMix: ExpressibleByArgument, Sendable, CustomStringConvertible {
    /// The benchmark's default: half adds, 40 % gets, 10 % removes.
    static let standard = OperationMix(weights: [.add: 50, .get: 40, .remove: 10])

    /// Weight of each operation, in `HTTPOperation.allCases` order.
    let weights: [Int]
    /// Running sums of `weights`: operation i is drawn when the draw is below `bounds[i]`.
    private let bounds: [UInt64]
    /// Sum of the weights (at least 1).
    let total: UInt64

    init(weights: [HTTPOperation: Int]) {
        self.weights = HTTPOperation.allCases.map { weights[$0] ?? 0 }
        var sum: UInt64 = 0
        var bounds: [UInt64] = []
        for w in self.weights {
            sum += UInt64(w)
            bounds.append(sum)
        }
        self.bounds = bounds
        total = sum
    }

    init?(argument: String) {
        var weights: [HTTPOperation: Int] = [:]
        for part in argument.split(separator: ",") {
            let pair = part.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2,
                  let operation = HTTPOperation(rawValue: pair[0].trimmingSpaces),
                  weights[operation] == nil,
                  let weight = Int(pair[1].trimmingSpaces), (0...1_000_000).contains(weight)
            else { return nil }
            weights[operation] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else { return nil }
        self.init(weights: weights)
    }

    /// Weight of `operation`.
    func weight(_ operation: HTTPOperation) -> Int {
        weights[HTTPOperation.allCases.firstIndex(of: operation)!]
    }

    /// Draws an operation with probability weight / total.
    @inline(__always)
    func pick(_ rng: inout SplitMix64) -> HTTPOperation {
        let x = rng.uniform(total)
        for (i, bound) in bounds.enumerated() where x < bound {
            return HTTPOperation.allCases[i]
        }
        return HTTPOperation.allCases[bounds.count - 1]
    }

    /// `add=50,get=40,remove=10` (operations of weight 0 left out).
    var description: String {
        HTTPOperation.allCases.enumerated().compactMap { i, op in
            weights[i] > 0 ? "\(op.rawValue)=\(weights[i])" : nil
        }.joined(separator: ",")
    }
}
