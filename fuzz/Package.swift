// swift-tools-version:6.0
// libFuzzer targets for everything rtcbox decodes from the network (see scripts/fuzz). Built with
// `swift build --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address` (notes/ffmpeg-from-swift.md, section 5).
import Foundation
import PackageDescription

/// A path dependency is named after its directory, which is whatever the clone is called.
let rtcbox = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent
let targets = ["FuzzFrameDecoder", "FuzzControlMessage", "FuzzHello", "FuzzMediaFrame", "FuzzToken",
    "FuzzRTP", "FuzzRTCP", "FuzzSTUN", "FuzzSDP", "FuzzDTLS",
    "FuzzJitterBuffer", "FuzzTransportFeedback", "FuzzSideInfo"]

let package = Package(
    name: "rtcbox-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                .product(name: "RoomProtocol", package: rtcbox),
                .product(name: "RoomAuth", package: rtcbox),
                .product(name: "RTP", package: rtcbox),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/\(name)")
    }
)
