// swift-tools-version:6.1
import PackageDescription

/// CartStore: a Dynamo-style key-value store for shopping carts.
///
/// Layers (dependencies point down only):
///   CartVersioning → CartStorage → CZlib
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "CartStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CartStorage", targets: ["CartStorage"]),
        .executable(name: "cartstore-dump", targets: ["cartstore-dump"]),
        .executable(name: "cartstore-bench", targets: ["cartstore-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
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
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartStorageTestSupport",
            dependencies: ["CartStorage"],
            path: "Tests/CartStorageTestSupport",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartstore-crash-helper",
            dependencies: ["CartStorage", "CartStorageTestSupport"],
            path: "Tests/CrashHelper",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartStorageTests",
            dependencies: ["CartStorage", "CartStorageTestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
