// swift-tools-version:6.1
import PackageDescription

/// Microbenchmarks of CartStorage's hot paths (ordo-one package-benchmark), kept out of the main
/// package so that its dependency graph stays small. They reach internal types through
/// `_StorageBenchmarkHooks` (benchmark-only, not API).
///
///     cd Benchmarks/Micro && swift package --disable-sandbox benchmark
let package = Package(
    name: "StorageMicro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "CartStore", path: "../.."),
        // The MallocInterposer trait is required: the default trait needs a repository that
        // does not resolve here (see /work/shared/notes/swift-packages.md).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "StorageMicro",
            dependencies: [
                .product(name: "CartStorage", package: "CartStore"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/StorageMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
