import CartSimulation
import CartTestSupport
import Foundation
import Testing

/// The cluster simulator over many seeds, and its determinism.
///
/// `CARTSTORE_SIM_SEEDS=<n>` runs seeds 1…n (default 240); `CARTSTORE_SEED=<n>` replays seed n
/// alone with its trace of events printed (the same as `swift run cartstore-sim --seed n
/// --trace`).
@Suite("Cluster simulator")
struct SimulationSeedTests {
    static let chunks = 8
    static var seedCount: Int {
        ProcessInfo.processInfo.environment["CARTSTORE_SIM_SEEDS"].flatMap(Int.init) ?? 240
    }
    static var replaySeed: UInt64? { ProcessInfo.processInfo.environment["CARTSTORE_SEED"].flatMap(UInt64.init) }

    /// Seeds that once failed during development (each a real bug in the request path or the
    /// simulator), run on every test run.
    static let regressionSeeds: [UInt64] = [3, 6, 26, 29, 31, 34, 56, 120, 175, 304, 510, 672, 890]

    static func failureMessage(_ report: SimulationReport) -> String {
        "\(report)\nreproduce with: CARTSTORE_SEED=\(report.options.seed) swift test --filter CartSimulationTests, "
            + "or \(report.replayCommand)"
    }

    @Test("seeds run clean: every invariant holds", arguments: 0..<chunks)
    func seedsRunClean(chunk: Int) {
        if let seed = Self.replaySeed {
            guard chunk == 0 else { return }
            let report = Simulation(options: .drawn(seed: seed), trace: { print($0) }).run()
            print(report)
            #expect(report.passed, "\(Self.failureMessage(report))")
            return
        }
        for seed in stride(from: UInt64(1 + chunk), through: UInt64(Self.seedCount), by: Self.chunks) {
            let report = Simulation(options: .drawn(seed: seed)).run()
            #expect(report.passed, "\(Self.failureMessage(report))")
            #expect(report.requests > 0 && report.invariantChecks > 0, "seed \(seed) ran nothing")
        }
    }

    @Test("regression seeds", arguments: regressionSeeds)
    func regressionSeed(seed: UInt64) {
        let report = Simulation(options: .drawn(seed: seed)).run()
        #expect(report.passed, "\(Self.failureMessage(report))")
    }

    @Test("a seed replays exactly in one process (same trace hash)")
    func sameSeedSameTrace() {
        for seed: UInt64 in [1, 2, 7, 42, 1_000] {
            let first = Simulation(options: .drawn(seed: seed)).run()
            let second = Simulation(options: .drawn(seed: seed)).run()
            #expect(first.traceHash == second.traceHash, "seed \(seed): \(first.traceHash) then \(second.traceHash)")
            #expect(first.requests == second.requests && first.messages == second.messages, "seed \(seed)")
        }
        // And different seeds differ (the hash sees the run).
        #expect(Simulation(options: .drawn(seed: 1)).run().traceHash != Simulation(options: .drawn(seed: 2)).run().traceHash)
    }

    /// Two processes hash dictionaries with different random seeds: a run that depended on
    /// dictionary order would differ between them (FoundationDB's unseed check).
    @Test("a seed replays exactly across processes (same trace hash)")
    func sameSeedSameTraceAcrossProcesses() throws {
        for seed: UInt64 in [3, 11] {
            let inProcess = Simulation(options: .drawn(seed: seed)).run().traceHash.description
            let first = try Self.traceHashFromExecutable(seed: seed)
            let second = try Self.traceHashFromExecutable(seed: seed)
            #expect(first == inProcess && second == inProcess, "seed \(seed): in process \(inProcess), child processes \(first), \(second)")
        }
    }

    static func traceHashFromExecutable(seed: UInt64) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("cartstore-sim"))
        process.arguments = ["--seed", "\(seed)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let range = output.range(of: #"trace=([0-9a-f]+)"#, options: .regularExpression) else {
            Issue.record("no trace hash in cartstore-sim's output: \(output)")
            return ""
        }
        return String(output[range].dropFirst("trace=".count))
    }
}
