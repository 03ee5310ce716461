import ArgumentParser

/// `cartstore-bench`: load generators for CartStore. `engine` drives the storage engine alone,
/// in the manner of LevelDB's and RocksDB's `db_bench`; `http` loads a running cluster through
/// its HTTP API.
@main
struct CartstoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartstore-bench",
        abstract: "Benchmark CartStore components.",
        subcommands: [EngineCommand.self, HTTPCommand.self]
    )
}
