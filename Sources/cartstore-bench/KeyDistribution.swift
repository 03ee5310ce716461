import ArgumentParser

/// `--distribution uniform|zipf`: how `cartstore-bench http` picks the user of each operation
/// (see `UserChooser`).
enum KeyDistribution: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Every user equally likely.
    case uniform
    /// Zipfian with theta 0.99 (YCSB's default): user 0 is the most popular, then user 1, ….
    case zipf
}
