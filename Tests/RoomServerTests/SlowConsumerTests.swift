import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// A subscriber that stops reading: its video is dropped to the next keyframe and counted, after the
/// limit it is disconnected with slow_consumer, and nobody else's latency moves.
final class SlowConsumerTests: XCTestCase {
    /// A raw connection that logs in, asks to play `stream`, and then never reads again.
    func stalledSubscriber(port: Int, stream: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(ok, 0)
        var b = ByteBuffer()
        Hello(details: .init(software: "stalled")).write(to: &b)
        ControlMessage.login(LoginRequest(id: 1, appID: 1, roomID: "r1", user: UserInfo(userID: "stalled", userName: "stalled"),
                                          userStatus: false)).write(to: &b)
        ControlMessage.play(PlayRequest(id: 2, streamID: stream)).write(to: &b)
        let bytes = Array(b.readableBytesView)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return fd
    }

    func testAStalledSubscriberIsDroppedThenDisconnectedAndOthersDoNotNotice() async throws {
        let h = try await ServerHarness {
            $0.slowConsumerTimeoutSeconds = 1.5
            $0.subscriberHighWaterMark = 64 << 10
            $0.subscriberLowWaterMark = 16 << 10
            $0.metricsHost = "127.0.0.1"
        }
        let alice = h.client("alice"), bob = h.client("bob")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let queue = MediaQueue(capacity: 10_000)
        try await bob.play(streamID: "cam", into: queue)
        let stalled = try stalledSubscriber(port: h.port, stream: "cam")
        defer { close(stalled) }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(h.server.counts.users, 3)

        let sending = Task.detached { await sendPacedFrames(publisher, count: 150) }
        var latencies: [Double] = []
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline && latencies.count < 150 {
            guard let item = queue.pop(until: Date().addingTimeInterval(0.05)), case .frame(let f) = item else { continue }
            latencies.append(Double(StreamCounters.wallClock() - f.header.captureTime) / 1000)
        }
        await sending.value
        XCTAssertEqual(latencies.count, 150, "bob got every frame")
        let sorted = latencies.sorted()
        XCTAssertLessThan(sorted[sorted.count / 2], 20, "bob's median latency")
        XCTAssertLessThan(sorted[sorted.count * 99 / 100], 100, "bob's p99 latency")
        // The stalled one: dropped to keyframes, then disconnected with slow_consumer.
        XCTAssertEqual(h.server.counts.users, 2, "the stalled subscriber was disconnected")
        let port = try XCTUnwrap(h.server.metricsAddress?.port)
        let (data, _) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/metrics")))
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("rtcbox_slow_consumers_total 1"), text)
        let dropped = text.split(separator: "\n").first { $0.hasPrefix("rtcbox_frames_dropped_total ") }
        XCTAssertGreaterThan(Int(dropped?.split(separator: " ").last ?? "0") ?? 0, 0, "frames were dropped for it")
        await alice.logout()
        await bob.logout()
        await h.stop()
    }

    /// A subscriber that stops reading for a second and then reads again: the server dropped its video to a
    /// keyframe, and says how many frames just before the first frame it sends again (play_frames_dropped,
    /// which a RoomClient counts into player_quality's frames_dropped).
    func testAPlayerIsToldWhatTheServerDroppedForIt() async throws {
        let h = try await ServerHarness {
            $0.slowConsumerTimeoutSeconds = 5
            $0.subscriberHighWaterMark = 64 << 10
            $0.subscriberLowWaterMark = 16 << 10
        }
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let fd = try stalledSubscriber(port: h.port, stream: "cam")
        defer { close(fd) }
        try await Task.sleep(for: .milliseconds(300))
        let sending = Task.detached { await sendPacedFrames(publisher, count: 90) }
        try await Task.sleep(for: .milliseconds(1200))   // not reading: the server's queue for it ages past 150 ms
        var received = ByteBuffer()
        var frames: [RoomFrame] = []
        let deadline = Date().addingTimeInterval(4)
        var chunk = [UInt8](repeating: 0, count: 65536)
        var flags = fcntl(fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(fd, F_SETFL, flags)
        while Date() < deadline {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received.writeBytes(chunk[0..<n]) } else { usleep(5000) }
            while let raw = try RoomFrameDecoder.nextFrame(from: &received, maximumFrameLength: 1 << 24) {
                frames.append(try RoomFrame(raw))
            }
        }
        await sending.value
        guard let noteIndex = frames.firstIndex(where: { if case .control(.playFramesDropped) = $0 { return true } else { return false } }),
              case .control(.playFramesDropped(let note)) = frames[noteIndex] else {
            return XCTFail("no play_frames_dropped among \(frames.count) frames")
        }
        XCTAssertGreaterThan(note.framesDropped, 0)
        guard let next = frames[(noteIndex + 1)...].first(where: { if case .media = $0 { return true } else { return false } }),
              case .media(let media) = next else { return XCTFail("no frame after the note") }
        XCTAssertTrue(media.header.isKeyframe, "the note comes just before the keyframe the player resumes at")
        let indices = frames.compactMap { f -> Int? in if case .media(let m) = f { return frameIndex(m) } else { return nil } }
        XCTAssertEqual(indices.count + note.framesDropped, 90 - (indices.first ?? 0) - (90 - 1 - (indices.last ?? 89)),
                       "what was told dropped and what came add up to what was sent in between: \(indices)")
        await alice.logout()
        await h.stop()
    }
}

/// 2 Mbit/s: 30 frames a second of 8 KB, a keyframe each second.
func sendPacedFrames(_ publisher: StreamPublisher, count: Int) async {
    for i in 0..<count {
        let key = i % 30 == 0
        let payload: [UInt8] = [0, 0, 0, 1, key ? 0x65 : 0x41] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            + [UInt8](repeating: 0x5A, count: 8 * 1024)
        payload.withUnsafeBytes { raw in
            _ = publisher.send(track: .video, keyframe: key, pts: Int64(i) * 33_333, dts: Int64(i) * 33_333,
                               captureTime: StreamCounters.wallClock(), payload: raw)
        }
        try? await Task.sleep(for: .milliseconds(33))
    }
}
