import ArgumentParser
import CartSimulation
import Foundation

/// `cartstore-sim`: runs the deterministic cluster simulator over one seed or many.
@main
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartstore-sim",
        abstract: "Run the deterministic CartStore cluster simulator.",
        discussion: """
            Each seed draws a cluster (nodes, network delays, loss, duplication, faults, clients) and runs \
            a safety phase with faults, then a liveness phase without, checking the invariants. One line \
            per seed; a failing seed prints what broke and the command that replays it.             `cartstore-sim scale` measures placement and anti-entropy cost for 10 to 1,000 nodes.
            """,
        subcommands: [ScaleCommand.self])

    @Option(help: "Run this seed only (replay).")
    var seed: UInt64?

    @Option(help: "Run this many seeds, starting at --first.")
    var seeds: Int = 1

    @Option(help: "The first seed of --seeds.")
    var first: UInt64 = 1

    @Option(help: "Pin the number of nodes (3…16) instead of drawing it from the seed.")
    var nodes: Int?

    @Option(help: "Pin the mean time between faults, ms (0: no faults).")
    var faultInterval: Int?

    @Option(help: "Pin the message loss rate (0…1).")
    var loss: Double?

    @Flag(help: "No node crashes.")
    var noCrashes = false

    @Flag(help: "No network partitions.")
    var noPartitions = false

    @Flag(help: "No injected disk errors.")
    var noDiskFaults = false

    @Flag(help: "Print every event of the run (use with --seed).")
    var trace = false

    mutating func validate() throws {
        if let nodes, !(3...16).contains(nodes) { throw ValidationError("--nodes must be within 3…16") }
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if let loss, !(0...1).contains(loss) { throw ValidationError("--loss must be within 0…1") }
        if let faultInterval, faultInterval < 0 { throw ValidationError("--fault-interval must be ≥ 0") }
    }

    func run() throws {
        let list: [UInt64] = seed.map { [$0] } ?? (0..<seeds).map { first + UInt64($0) }
        var failed: [UInt64] = []
        var requests = 0
        var simulatedMs: UInt64 = 0
        let started = Date()
        for seed in list {
            var options = SimulationOptions.drawn(seed: seed)
            if let nodes { options.nodes = nodes }
            if let faultInterval { options.faultIntervalMs = faultInterval }
            if let loss { options.lossRate = loss }
            if noCrashes { options.crashes = false }
            if noPartitions { options.partitions = false }
            if noDiskFaults { options.diskFaults = false }
            if trace || list.count == 1 { print("options: \(options)") }
            let simulation = Simulation(options: options, trace: trace ? { print($0) } : nil)
            let report = simulation.run()
            print(report)
            if !report.passed { failed.append(seed) }
            requests += report.requests
            simulatedMs += report.simulatedMs
        }
        let wall = Date().timeIntervalSince(started)
        let rate = wall > 0 ? Double(requests) / wall : 0
        print("\(list.count) seeds, \(failed.count) failed\(failed.isEmpty ? "" : ": \(failed.map(String.init).joined(separator: " "))"); "
              + "\(requests) simulated requests in \(String(format: "%.1f", Double(simulatedMs) / 1000)) s simulated, "
              + "\(String(format: "%.1f", wall)) s wall: \(Int(rate)) simulated requests/s")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
