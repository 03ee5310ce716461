// swift-tools-version:6.1
import PackageDescription

/// CartStore: a Dynamo-style key-value store for shopping carts.
///
/// Layers (dependencies point down only; see ../shared/design.md):
///   CartStorage (durable engine) → CZlib (system zlib)
///   CartVersioning (clocks, siblings, cart CRDT, record codec): standard library only
///   CartCluster (ring, replica and hint stores, the sans-I/O request path) → CartStorage, CartVersioning
///   CartSimulation (deterministic cluster simulator; `cartstore-sim`) → CartCluster
///   CartServer (NIO runtime, authenticated peer transport, Hummingbird HTTP API, lifecycle,
///     metrics; `cartstore-server`) → CartCluster
///   cartstore (the command-line client) → HTTP only
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "CartStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CartStorage", targets: ["CartStorage"]),
        .library(name: "CartVersioning", targets: ["CartVersioning"]),
        .library(name: "CartCluster", targets: ["CartCluster"]),
        .executable(name: "cartstore-dump", targets: ["cartstore-dump"]),
        .executable(name: "cartstore-bench", targets: ["cartstore-bench"]),
        .executable(name: "cartstore-sim", targets: ["cartstore-sim"]),
        .executable(name: "cartstore-server", targets: ["cartstore-server"]),
        .executable(name: "cartstore", targets: ["cartstore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "CartStorage",
            dependencies: [
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-dump",
            dependencies: [
                "CartStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-bench",
            dependencies: [
                "CartStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartTestSupport",
            dependencies: ["CartStorage"],
            path: "Tests/CartTestSupport",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-crash-helper",
            dependencies: ["CartStorage", "CartTestSupport"],
            path: "Tests/CrashHelper",
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartVersioning",
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartCluster",
            dependencies: ["CartStorage", "CartVersioning", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartSimulation",
            dependencies: [
                "CartCluster", "CartStorage", "CartVersioning",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-sim",
            dependencies: [
                "CartSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartServer",
            dependencies: [
                "CartCluster", "CartStorage", "CartVersioning",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-server",
            dependencies: [
                "CartServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartServerTests",
            dependencies: [
                "CartServer", "CartCluster", "CartStorage", "CartVersioning", "CartTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartSimulationTests",
            dependencies: ["CartSimulation", "CartCluster", "CartTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartClusterTests",
            dependencies: ["CartCluster", "CartTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartVersioningTests",
            dependencies: ["CartVersioning", "CartTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartStorageTests",
            dependencies: ["CartStorage", "CartTestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)

// libFuzzer targets for the record decoder and the engine's decoders; built only with
// CARTSTORE_FUZZ=1 (see README).
if Context.environment["CARTSTORE_FUZZ"] == "1" {
    package.products.append(.executable(name: "CartVersioningFuzz", targets: ["CartVersioningFuzz"]))
    package.targets.append(.executableTarget(
        name: "CartVersioningFuzz",
        dependencies: ["CartVersioning"],
        swiftSettings: strictSettings
    ))
    package.products.append(.executable(name: "CartStorageFuzz", targets: ["CartStorageFuzz"]))
    package.targets.append(.executableTarget(
        name: "CartStorageFuzz",
        dependencies: ["CartStorage"],
        swiftSettings: strictSettings
    ))
}
