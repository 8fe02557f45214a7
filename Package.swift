// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "sigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sigil", targets: ["sigil"]),
        .executable(name: "sigil-bare-route", targets: ["sigil-bare-route"]),
        .library(name: "SigilCore", targets: ["SigilCore"]),
        .library(name: "SigilStore", targets: ["SigilStore"]),
        .library(name: "SigilService", targets: ["SigilService"]),
        .library(name: "SigilGraph", targets: ["SigilGraph"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Domain: schema, values, validation, access policy, errors. No I/O.
        .target(
            name: "SigilCore",
            swiftSettings: swiftSettings
        ),
        // Persistence behind the DirectoryStore protocol. Knows nothing of HTTP.
        .target(
            name: "SigilStore",
            dependencies: [
                "SigilCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The use-cases every front end shares: callers, access checks, audited store
        // transactions, tokens, credentials, bootstrap and demo data. Knows nothing of HTTP.
        .target(
            name: "SigilService",
            dependencies: [
                "SigilCore",
                "SigilStore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Change notifications to subscribers' webhooks.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Graph-compatible HTTP API.
        .target(
            name: "SigilGraph",
            dependencies: [
                "SigilCore",
                "SigilStore",
                "SigilService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Compiled into the binary as `PackageResources.openapi_yaml`: no files to ship beside it.
            resources: [.embedInCode("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // The command line's client for the Graph API (URLSession; no database access).
        .target(
            name: "SigilClient",
            dependencies: ["SigilCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The web admin console: server-rendered pages over the same services as the API.
        .target(
            name: "SigilConsole",
            dependencies: [
                "SigilCore",
                "SigilStore",
                "SigilService",
                "SigilGraph",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // Templates, stylesheet and script compiled into the binary as `PackageResources` members.
            resources: [
                .embedInCode("Resources/templates"),
                .embedInCode("Resources/console.css"),
                .embedInCode("Resources/console.js"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sigil",
            dependencies: [
                "SigilCore",
                "SigilStore",
                "SigilService",
                "SigilGraph",
                "SigilConsole",
                "SigilClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generates benchmark tenants straight through the store (scripts/bench).
        .executableTarget(
            name: "sigil-bench",
            dependencies: [
                "SigilCore", "SigilStore", "SigilService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/SigilBench",
            swiftSettings: swiftSettings
        ),
        // A bare Hummingbird JSON route, the yardstick scripts/bench measures beside Sigil.
        .executableTarget(
            name: "sigil-bare-route",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareRoute",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigilCoreTests",
            dependencies: ["SigilCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigilStoreTests",
            dependencies: ["SigilStore", "SigilCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // What the HTTP and console test targets share: a fresh tenant, the in-process Graph
        // client and the console browser. A library because test targets cannot depend on each other.
        .target(
            name: "SigilTestSupport",
            dependencies: [
                "SigilGraph", "SigilService", "SigilStore", "SigilCore", "SigilConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/SigilTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigilGraphTests",
            dependencies: [
                "SigilGraph", "SigilService", "SigilStore", "SigilCore", "SigilConsole", "SigilTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigilConsoleTests",
            dependencies: [
                "SigilConsole", "SigilGraph", "SigilService", "SigilStore", "SigilCore", "SigilTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigilClientTests",
            dependencies: ["SigilClient", "SigilCore"],
            swiftSettings: swiftSettings
        ),
    ]
)
