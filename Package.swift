// swift-tools-version:6.0
// Ferry: an embeddable workflow engine for cloud migration runbooks.
// Dependencies point one way: CLI and C ABI -> runtime -> providers/emulator -> catalog/signing -> core -> JSON.
import PackageDescription

let versionScript = Context.packageDirectory + "/Sources/FerryABI/exports.map"

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ferry", type: .dynamic, targets: ["FerryABI"]),
        .executable(name: "ferry-cli", targets: ["FerryCLI"]),
        .library(name: "FerryKit", targets: ["FerryRuntime", "FerryEmulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // JSON value type, parser and printer shared by every module (and by JMESPath).
        .target(name: "FerryJSON", dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]),
        // Stable error codes, structured logging hook, secret redaction.
        .target(name: "FerryCore", dependencies: ["FerryJSON", .product(name: "Logging", package: "swift-log")]),
        // The JMESPath specification; depends only on the JSON value type.
        .target(name: "JMESPath", dependencies: ["FerryJSON"]),
        // ACS3-HMAC-SHA256 and SDK-HMAC-SHA256 canonicalization and signing.
        .target(name: "FerrySigning", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The declarative catalog of the 24 migration operations and request validation.
        .target(name: "FerryCatalog", dependencies: ["FerryCore", "FerryJSON"]),
        // HTTP clients for the four services (AsyncHTTPClient), credentials, endpoints, error mapping.
        .target(name: "FerryProviders", dependencies: [
            "FerryCore", "FerryJSON", "FerryCatalog", "FerrySigning",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The local emulator of the four APIs (Hummingbird).
        .target(name: "FerryEmulator", dependencies: [
            "FerryCore", "FerryJSON", "FerryCatalog", "FerrySigning",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "OrderedCollections", package: "swift-collections"),
        ]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // Durable workflow runtime and the Engine facade used by the C ABI and the CLI.
        .target(name: "FerryRuntime", dependencies: [
            "FerryCore", "FerryJSON", "JMESPath", "FerryCatalog", "FerryProviders", "CSQLite",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The C ABI: @_cdecl entry points only; the version script keeps every other symbol local.
        .target(name: "FerryABI", dependencies: ["FerryRuntime", "FerryEmulator", "FerryCore", "FerryJSON", "JMESPath"],
                exclude: ["exports.map"],
                linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(versionScript)"])]),
        .executableTarget(name: "FerryCLI", dependencies: [
            "FerryRuntime", "FerryEmulator", "FerryCore", "FerryJSON", "JMESPath",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "FerryBench", dependencies: [
            "FerryRuntime", "FerryEmulator", "FerryProviders", "FerryCore", "FerryJSON", "JMESPath", "CSQLite",
        ]),

        .testTarget(name: "FerryJSONTests", dependencies: ["FerryJSON"]),
        .testTarget(name: "FerryCoreTests", dependencies: ["FerryCore"]),
        .testTarget(name: "JMESPathTests", dependencies: ["JMESPath", "FerryJSON"]),
        .testTarget(name: "FerrySigningTests", dependencies: ["FerrySigning", "FerryJSON"]),
        .testTarget(name: "FerryProvidersTests", dependencies: ["FerryProviders", "FerryCatalog", "FerryEmulator"]),
        .testTarget(name: "FerryEmulatorTests", dependencies: [
            "FerryEmulator", "FerryProviders",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "FerryRuntimeTests", dependencies: ["FerryRuntime", "FerryEmulator"]),
    ]
)
