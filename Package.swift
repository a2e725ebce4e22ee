// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rtcbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rtcbox", targets: ["rtcbox"]),
        .library(name: "RoomClient", targets: ["RoomClient"]),
        .library(name: "RoomProtocol", targets: ["RoomProtocol"]),
        .library(name: "RoomAuth", targets: ["RoomAuth"]),
        .library(name: "RTP", targets: ["RTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavdevice libswscale libswresample libavutil",
            providers: [.apt(["libavcodec-dev", "libavformat-dev", "libavdevice-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .target(name: "FFmpegKit", dependencies: ["CFFmpeg"]),
        .target(name: "RoomProtocol", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "RoomAuth", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // OpenSSL (DTLS with use_srtp) and libsrtp2: seen only by RTP.
        .systemLibrary(name: "CDTLS", pkgConfig: "libssl libcrypto libsrtp2", providers: [.apt(["libssl-dev", "libsrtp2-dev"])]),
        .target(
            name: "RTP",
            dependencies: ["CDTLS", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "RoomRTP", dependencies: ["RoomProtocol", "RTP", .product(name: "NIOCore", package: "swift-nio")]),
        .target(
            name: "RoomServer",
            dependencies: [
                "RoomProtocol", "RoomAuth", "RTP", "RoomRTP",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The room page (serve --web): committed as plain files, compiled into the binary.
            resources: [.embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/style.css"),
                        .embedInCode("Web/whip.html"), .embedInCode("Web/webrtc.js"),
                        .embedInCode("Web/common.js"), .embedInCode("Web/connection.js"), .embedInCode("Web/h264.js"),
                        .embedInCode("Web/player.js"), .embedInCode("Web/publisher.js"), .embedInCode("Web/room.js")]
        ),
        .target(
            name: "RoomClient",
            dependencies: [
                "RoomProtocol", "RoomAuth", "RTP", "RoomRTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Several serve nodes, one set of rooms: the shared state in PostgreSQL (serve --cluster).
        .target(
            name: "Cluster",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Media",
            dependencies: ["FFmpegKit", "RoomClient", "RoomProtocol", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "rtcbox",
            dependencies: [
                "Media", "RoomServer", "RoomClient", "RoomProtocol", "RoomAuth", "FFmpegKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "FFmpegKitTests", dependencies: ["FFmpegKit"]),
        .testTarget(name: "RoomAuthTests", dependencies: ["RoomAuth"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(
            name: "RoomProtocolTests",
            dependencies: ["RoomProtocol", .product(name: "NIOTestUtils", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Test helpers shared by the test targets (a TCP proxy for network interruptions).
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "RoomServerTests",
            dependencies: ["RoomServer", "RoomClient", "RoomProtocol", "RoomAuth", "RTP", "RoomRTP", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        .testTarget(name: "RoomRTPTests", dependencies: ["RoomRTP", "RoomProtocol", "RTP"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "FFmpegKit", "RoomProtocol"]),
        // Against a real PostgreSQL the tests start (initdb + postgres on a private port; skipped without one).
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EndToEndTests", dependencies: ["rtcbox", "TestSupport"]),
    ]
)
