// swift-tools-version: 6.1
// Warden: a seller-side compliance daemon for marketplace rules.
//
// Layout (see docs/ARCHITECTURE.md):
//   WardenCore            the domain: records, money, time, cases, decisions, policies,
//                         the registry and the deadline state machine. No NIO, no GRDB.
//   Plugins/*             one policy module per category, each depending on WardenCore only.
//   WardenStore           SQLite persistence behind typed transactions (its own small
//                         layer over the C API: GRDB would link all of Foundation).
//   WardenSpool           the spool directory: discovery, reading, moving files.
//   WardenRPC             the line-delimited JSON-RPC server on a Unix socket (SwiftNIO).
//   WardenMetrics         Prometheus metrics (SPEC §8) and their HTTP endpoint.
//   WardenLogging         log handlers (stderr with sd-daemon priority prefixes).
//   WardenDaemon          config, the engine and the services that make up wardend.
//   WardenClient          a small blocking socket client shared by wardenctl and tests.
//   wardend / wardenctl   the two executables.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "warden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wardend", targets: ["wardend"]),
        .executable(name: "wardenctl", targets: ["wardenctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "WardenCore", dependencies: ["CWardenSys"], swiftSettings: swiftSettings),
        .target(
            name: "KitchenAppliancesPolicy",
            dependencies: ["WardenCore"],
            path: "Plugins/KitchenAppliances",
            swiftSettings: swiftSettings
        ),
        .target(name: "ModelToysPolicy", dependencies: ["WardenCore"], path: "Plugins/ModelToys", swiftSettings: swiftSettings),
        .target(name: "LuggagePolicy", dependencies: ["WardenCore"], path: "Plugins/Luggage", swiftSettings: swiftSettings),
        .target(name: "ServiceQualityPolicy", dependencies: ["WardenCore"], path: "Plugins/ServiceQuality", swiftSettings: swiftSettings),
        .target(
            name: "WardenStore",
            dependencies: ["WardenCore", "CSQLite", "CLibPQ"],
            swiftSettings: swiftSettings
        ),
        .target(name: "CWardenSys"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "WardenSpool",
            dependencies: ["WardenCore", "CWardenSys", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // JSON-RPC requests and errors without the server (no NIO): fuzzed on their own.
        .target(name: "WardenProtocol", dependencies: ["WardenCore"], swiftSettings: swiftSettings),
        .target(
            name: "WardenRPC",
            dependencies: [
                "WardenCore", "WardenProtocol", "CWardenSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "WardenLogging",
            dependencies: ["CSystemd", "WardenCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The external module protocol (SPEC.md §6) as values: handshake and decisions,
        // read and written without processes (fuzzed on their own).
        .target(name: "WardenPluginProtocol", dependencies: ["WardenCore"], swiftSettings: swiftSettings),
        // The host side of external modules: processes, pipes, supervision.
        .target(
            name: "WardenPlugin",
            dependencies: [
                "WardenCore", "WardenPluginProtocol", "WardenRPC", "CWardenSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Prometheus metrics (SPEC.md §8): the registry, and the HTTP endpoint for scrapes.
        .target(
            name: "WardenMetrics",
            dependencies: [
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A strict TOML 1.0 parser in Swift (no C++ underneath), for warden.toml.
        .target(name: "WardenTOML", swiftSettings: swiftSettings),
        // warden.toml: its types and loader, without the daemon (fuzzed on their own).
        .target(
            name: "WardenConfigFile",
            dependencies: ["WardenCore", "WardenTOML"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenDaemon",
            dependencies: [
                "WardenCore", "CWardenSys", "WardenStore", "WardenSpool", "WardenRPC", "WardenLogging", "WardenConfigFile",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "WardenPluginProtocol", "WardenPlugin", "WardenMetrics",
                "KitchenAppliancesPolicy", "ModelToysPolicy", "LuggagePolicy", "ServiceQualityPolicy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "WardenClient", dependencies: ["WardenCore", "CWardenSys"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "wardend",
            dependencies: [
                "WardenDaemon", "WardenCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "wardenctl",
            dependencies: [
                "WardenCore", "WardenClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenTestKit",
            dependencies: ["WardenCore", "WardenClient", "WardenStore", "CWardenSys"],
            swiftSettings: swiftSettings
        ),
        // Fuzz targets (scripts/fuzz): built with libFuzzer by `scripts/fuzz`; in an
        // ordinary build each is a replayer of its corpus (Fuzz/corpus/NAME).
        .target(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .target(name: "WardenFuzzSupport", dependencies: ["CFuzzer"], path: "Fuzz/Support", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-records", dependencies: ["WardenFuzzSupport", "WardenCore", "WardenSpool", "LuggagePolicy", "ModelToysPolicy", "ServiceQualityPolicy"], path: "Fuzz/records", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-rpc", dependencies: ["WardenFuzzSupport", "WardenCore", "WardenProtocol"], path: "Fuzz/rpc", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-csv", dependencies: ["WardenFuzzSupport", "WardenCore", "WardenSpool"], path: "Fuzz/csv", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-ndjson", dependencies: ["WardenFuzzSupport", "WardenCore", "WardenSpool"], path: "Fuzz/ndjson", swiftSettings: swiftSettings),
        .executableTarget(
            name: "fuzz-config",
            dependencies: ["WardenFuzzSupport", "WardenCore", "WardenConfigFile", "KitchenAppliancesPolicy", "LuggagePolicy", "ModelToysPolicy", "ServiceQualityPolicy"],
            path: "Fuzz/config", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-plugin", dependencies: ["WardenFuzzSupport", "WardenCore", "WardenPluginProtocol"], path: "Fuzz/plugin", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-tzif", dependencies: ["WardenFuzzSupport", "WardenCore"], path: "Fuzz/tzif", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-time-money", dependencies: ["WardenFuzzSupport", "WardenCore"], path: "Fuzz/time-money", swiftSettings: swiftSettings),
        .testTarget(name: "WardenPluginProtocolTests", dependencies: ["WardenCore", "WardenPluginProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "WardenTOMLTests", dependencies: ["WardenTOML", "WardenTestKit"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "WardenCoreTests", dependencies: ["WardenCore", "WardenTestKit"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KitchenAppliancesTests",
            dependencies: ["KitchenAppliancesPolicy", "WardenCore", "WardenTestKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PolicyTests",
            dependencies: ["ModelToysPolicy", "LuggagePolicy", "ServiceQualityPolicy", "KitchenAppliancesPolicy", "WardenCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenDaemonTests",
            dependencies: [
                "WardenDaemon", "WardenStore", "WardenSpool", "WardenCore", "WardenTestKit", "KitchenAppliancesPolicy", "ServiceQualityPolicy",
                "WardenPlugin", "WardenPluginProtocol", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemdTests",
            // Packaging under a real journald and systemd; needs root, skips otherwise.
            dependencies: ["WardenCore", "WardenClient", "WardenTestKit", "wardend", "wardenctl"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            // The executables are dependencies so that `swift test` builds them; the tests
            // run the built binaries, not their code in-process.
            dependencies: [
                "WardenCore", "WardenClient", "WardenStore", "WardenTestKit", "wardend", "wardenctl",
                "fuzz-records", "fuzz-rpc", "fuzz-csv", "fuzz-ndjson", "fuzz-config", "fuzz-time-money", "fuzz-plugin", "fuzz-tzif",
            ],
            exclude: ["plugins"],
            swiftSettings: swiftSettings
        ),
    ]
)
