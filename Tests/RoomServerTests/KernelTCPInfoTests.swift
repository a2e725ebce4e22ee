import NIOCore
import NIOPosix
import RoomClient
import XCTest

/// TCP_INFO read past glibc's struct: on a real loopback connection that carried data, the kernel's round
/// trip and delivery rate are there (the offsets match this kernel's struct tcp_info).
final class KernelTCPInfoTests: XCTestCase {
    func testTheKernelReportsRoundTripAndDeliveryRate() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try ServerBootstrap(group: group)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }   // reads and discards
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try ClientBootstrap(group: group).connect(to: try XCTUnwrap(server.localAddress)).wait()
        defer { try? client.close().wait() }
        for _ in 0..<64 {
            try client.writeAndFlush(client.allocator.buffer(repeating: 0x5A, count: 64 << 10)).wait()
        }
        let info = try XCTUnwrap(try KernelTCPInfo.read(client).wait())
        XCTAssertNotNil(info.rttMs, "tcpi_rtt")
        XCTAssertLessThan(info.rttMs ?? .infinity, 100, "loopback round trip in ms")
        let rate = try XCTUnwrap(info.deliveryRate, "tcpi_delivery_rate")
        XCTAssertGreaterThan(rate, 10_000_000, "loopback delivers well over 10 Mbit/s")
        XCTAssertGreaterThanOrEqual(info.notSentBytes, 0)
        XCTAssertGreaterThan(info.bytesAcked, 1 << 20, "most of the 4 MiB written was acknowledged: \(info.bytesAcked)")
        XCTAssertLessThanOrEqual(info.bytesAcked, 4 << 20 + 1)
    }
}
