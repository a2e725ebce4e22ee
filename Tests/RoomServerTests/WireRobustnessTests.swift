import Foundation
import NIOCore
import NIOPosix
import RoomProtocol
import RoomServer
import XCTest

/// Raw sockets speaking (or breaking) the protocol against a real server.
final class WireRobustnessTests: XCTestCase {
    /// Connects, sends `bytes`, and returns everything the server sends until it closes (or 3 s pass).
    private func exchange(port: Int, _ bytes: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(ok, 0)
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return received
    }

    private func frames(_ bytes: [UInt8]) throws -> [RoomFrame] {
        var b = ByteBuffer(bytes: bytes)
        var out: [RoomFrame] = []
        while let raw = try RoomFrameDecoder.nextFrame(from: &b, maximumFrameLength: 1 << 22) { out.append(try RoomFrame(raw)) }
        return out
    }

    private func hello(version: UInt16 = 1, minimum: UInt16 = 1) -> [UInt8] {
        var b = ByteBuffer()
        Hello(version: version, minimumVersion: minimum, details: .init(software: "test")).write(to: &b)
        return Array(b.readableBytesView)
    }

    func testUnknownVersionIsRefusedWithAClearError() async throws {
        let h = try await ServerHarness()
        let reply = try frames(exchange(port: h.port, hello(version: 9, minimum: 8)))
        guard reply.count == 2, case .hello = reply[0], case .control(.error(let e)) = reply[1] else { return XCTFail("\(reply)") }
        XCTAssertEqual(e.errorCode, .unsupportedVersion)
        XCTAssertTrue(e.message.contains("8...9"), e.message)
        await h.stop()
    }

    func testOversizedFrameClosesTheConnectionWithAnError() async throws {
        let h = try await ServerHarness()
        var bytes = hello()
        bytes += [0x7F, 0xFF, 0xFF, 0xFF, 0x02]  // claims 2 GiB
        let reply = try frames(exchange(port: h.port, bytes))
        guard case .control(.error(let e))? = reply.last else { return XCTFail("\(reply)") }
        XCTAssertEqual(e.errorCode, .frameTooLarge)
        await h.stop()
    }

    func testGarbageBeforeHelloIsRefused() async throws {
        let h = try await ServerHarness()
        let reply = try frames(exchange(port: h.port, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        guard case .control(.error(let e))? = reply.last else { return XCTFail("\(reply)") }
        XCTAssertNotNil(e.errorCode)
        await h.stop()
    }

    func testUnknownRequestIsAnsweredAndTheConnectionStaysUsable() async throws {
        let h = try await ServerHarness()
        var b = ByteBuffer()
        b.writeFrame(.control) { $0.writeString(#"{"type":"teleport","id":5}"#) }
        ControlMessage.ping(Ping(id: 6, time: 99)).write(to: &b)
        let bytes = hello() + Array(b.readableBytesView)
        // The server keeps the connection open: read what arrives within the timeout.
        let reply = try frames(exchange(port: h.port, bytes))
        XCTAssertTrue(reply.contains { if case .control(.error(let e)) = $0 { return e.id == 5 && e.errorCode == .badRequest } else { return false } })
        XCTAssertTrue(reply.contains { $0 == .control(.pong(Ping(id: 6, time: 99))) })
        await h.stop()
    }
}
