import Foundation
import NIOCore
import NIOPosix
import RoomClient
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

    /// Connects, sends `bytes`, and returns the error code the server sent before closing (if any).
    private func hostile(port: Int, _ bytes: [UInt8]) throws -> RoomErrorCode? {
        let reply = try exchange(port: port, bytes)
        var b = ByteBuffer(bytes: reply)
        var code: RoomErrorCode?
        while let raw = try? RoomFrameDecoder.nextFrame(from: &b, maximumFrameLength: 1 << 22) {
            if case .control(.error(let e))? = try? RoomFrame(raw) { code = e.errorCode }
        }
        return code
    }

    func testHostileConnectionsDoNotDisturbALiveStream() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice"), bob = h.client("bob")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let queue = MediaQueue(capacity: 10_000)
        try await bob.play(streamID: "cam", into: queue)

        let streaming = Task.detached {
            for round in 0..<30 {
                sendFrames(publisher, count: 10, gop: 30, startIndex: round * 10)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        var generator = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        // Each of these gets an error naming the problem before the server closes the connection.
        var attacks: [([UInt8], RoomErrorCode)] = [
            ([0x00, 0x00, 0x00, 0x08, 0x01] + random(8), .badRequest),          // a hello without the magic
            (hello() + [0x7F, 0xFF, 0xFF, 0xF0, 0x03], .frameTooLarge),           // oversized media frame
            (hello() + [0, 0, 0, 1, 0x09], .badRequest),                        // unknown frame type
            (hello() + hello(), .badRequest),                                   // a second hello
        ]
        var media = ByteBuffer()  // media before any login, with the live stream's handle
        media.writeFrame(.media) { body in
            MediaFrameHeader(streamHandle: publisher.handle, track: .video, flags: .keyframe, pts: 0, dts: 0, captureTime: 0).write(to: &body)
            body.writeBytes(random(100))
        }
        var control = ByteBuffer()
        control.writeFrame(.control) { $0.writeBytes(random(200)) }  // not JSON
        attacks.append((hello() + Array(control.readableBytesView), .badRequest))
        for (attack, expected) in attacks {
            XCTAssertEqual(try hostile(port: h.port, attack), expected)
        }
        // Media for someone else's stream handle, truncated frames and noise: whatever the answer, the live
        // stream must not notice.
        _ = try hostile(port: h.port, hello() + Array(media.readableBytesView))
        _ = try hostile(port: h.port, hello() + [0, 0, 0, 50, 0x02] + Array("{\"type\":".utf8))
        for _ in 0..<10 { _ = try hostile(port: h.port, hello() + random(Int.random(in: 1...2000, using: &generator))) }
        _ = try hostile(port: h.port, random(4096))
        await streaming.value
        let items = drain(queue, seconds: 5) { $0.filter { if case .frame = $0 { return true } else { return false } }.count >= 300 }
        let indices = items.compactMap { item -> Int? in if case .frame(let f) = item { return frameIndex(f) } else { return nil } }
        XCTAssertEqual(indices, Array(0..<300), "the stream was disturbed by hostile connections")
        XCTAssertEqual(h.server.counts.users, 2, "only the two real users are logged in")
        XCTAssertNil(alice.endReason)
        await alice.logout()
        await bob.logout()
        await h.stop()
    }
}
