import Foundation
import NIOCore
import RoomClient
import RoomProtocol
import RoomServer
import TestSupport
import XCTest

/// Media over UDP end to end in one process: a real server with `--udp` on 127.0.0.1, real clients, real
/// ICE, DTLS-SRTP and RTP on sockets; and the fall back to the room connection when UDP gets no answer.
final class UDPMediaTests: XCTestCase {
    /// Video frames at 30 fps in real time (a keyframe every `gop`), payloads without zero bytes.
    static func sendVideo(_ publisher: StreamPublisher, count: Int, gop: Int = 30, size: Int = 3000) async -> [[UInt8]] {
        var sent: [[UInt8]] = []
        let start = Date()
        for i in 0..<count {
            let key = i % gop == 0
            var payload: [UInt8] = key ? [0, 0, 0, 1, 0x67, 0x42, 0xE0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80] : []
            payload += [0, 0, 0, 1, key ? 0x65 : 0x41, UInt8(1 + i / 250), UInt8(1 + i % 250)]
            payload += (0..<size).map { UInt8(1 + ($0 + i) % 250) }
            sent.append(payload)
            payload.withUnsafeBytes { raw in
                _ = publisher.send(track: .video, keyframe: key, pts: Int64(i) * 33_333, dts: Int64(i) * 33_333,
                                   captureTime: UInt64(Date().timeIntervalSince1970 * 1_000_000), payload: raw)
            }
            let due = start.addingTimeInterval(Double(i + 1) / 30)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        }
        return sent
    }

    static func index(_ frame: MediaFrame) -> Int? {
        let bytes = Array(frame.payload.readableBytesView)
        guard let at = bytes.firstIndex(where: { $0 == 0x65 || $0 == 0x41 }), at + 2 < bytes.count,
              bytes[at - 1] == 1, bytes[at - 2] == 0 else { return nil }
        return (Int(bytes[at + 1]) - 1) * 250 + Int(bytes[at + 2]) - 1
    }

    func transport(_ log: EventLog, role: String, seconds: Double = 5) async -> (transport: String, reason: String)? {
        guard let e = await log.wait(seconds, for: { if case .mediaTransport(_, role, _, _) = $0 { return true }; return false }),
              case .mediaTransport(_, _, let transport, let reason) = e else { return nil }
        return (transport, reason)
    }

    func testPublishAndPlayOverUDP() async throws {
        let h = try await ServerHarness { $0.udpHost = "127.0.0.1"; $0.udpPort = 0 }
        let alice = h.client("alice"), bob = h.client("bob")
        let aliceLog = EventLog(alice), bobLog = EventLog(bob)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let up = await transport(aliceLog, role: "publisher")
        XCTAssertEqual(up?.transport, "udp", up?.reason ?? "")
        XCTAssertEqual(publisher.transport, "udp")
        let queue = MediaQueue()
        try await bob.play(streamID: "cam", into: queue)
        let down = await transport(bobLog, role: "player")
        XCTAssertEqual(down?.transport, "udp", down?.reason ?? "")

        let sent = await Self.sendVideo(publisher, count: 75)
        let items = drain(queue, seconds: 3) { items in
            items.contains { if case .frame(let f) = $0 { return Self.index(f) == sent.count - 1 }; return false }
        }
        let frames = items.compactMap { item -> MediaFrame? in if case .frame(let f) = item { return f }; return nil }
        XCTAssertTrue(items.contains { if case .started = $0 { return true }; return false })
        // Every frame from the first keyframe on, in order and exact (payload, pts, keyframe flag).
        let indices = frames.compactMap(Self.index)
        XCTAssertEqual(indices.last, sent.count - 1)
        XCTAssertEqual(indices, Array((indices.first ?? 0)...(sent.count - 1)), "no frame lost or reordered on loopback")
        XCTAssertLessThanOrEqual(indices.first ?? 99, 31, "play starts at one of the first keyframes")
        for f in frames {
            guard let i = Self.index(f) else { continue }
            XCTAssertEqual(Array(f.payload.readableBytesView), sent[i])
            XCTAssertEqual(f.header.pts, Int64(i) * 33_333)
            XCTAssertEqual(f.header.isKeyframe, i % 30 == 0)
        }
        for c in [alice, bob] { await c.logout() }
        await h.stop()
    }

    /// A play asked before the stream is live is answered with AAC for audio (what rtcbox publishes); the
    /// stream turns out to carry Opus (a browser's): its audio comes on the room connection, its video on UDP.
    func testAudioTheAnswerCouldNotNameGoesOnTheConnection() async throws {
        let h = try await ServerHarness { $0.udpHost = "127.0.0.1"; $0.udpPort = 0 }
        let alice = h.client("alice", port: h.port) { $0.mediaTransport = .tcp }
        let bob = h.client("bob")
        let bobLog = EventLog(bob)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let queue = MediaQueue()
        try await bob.play(streamID: "cam", into: queue)
        let down = await transport(bobLog, role: "player")
        XCTAssertEqual(down?.transport, "udp", down?.reason ?? "")
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack, TrackInfo(kind: .audio, codec: "opus", channels: 2)])
        try await Task.sleep(for: .milliseconds(300))
        var opus: [[UInt8]] = []
        for i in 0..<50 {
            let packet: [UInt8] = [0xFC, UInt8(i), 0x55, 0xAA]
            opus.append(packet)
            packet.withUnsafeBytes { raw in
                _ = publisher.send(track: .audio, keyframe: true, pts: Int64(i) * 20_000, dts: Int64(i) * 20_000,
                                   captureTime: UInt64(Date().timeIntervalSince1970 * 1_000_000), payload: raw)
            }
        }
        let sent = await Self.sendVideo(publisher, count: 40)
        let items = drain(queue, seconds: 3) { items in
            items.contains { if case .frame(let f) = $0 { return Self.index(f) == sent.count - 1 }; return false }
        }
        let audio = items.compactMap { item -> [UInt8]? in
            if case .frame(let f) = item, f.header.track == .audio { return Array(f.payload.readableBytesView) }
            return nil
        }
        XCTAssertEqual(audio, opus, "every Opus packet, unchanged, on the connection")
        XCTAssertTrue(items.contains { if case .frame(let f) = $0 { return Self.index(f) == sent.count - 1 }; return false },
                      "the video came (over UDP)")
        for c in [alice, bob] { await c.logout() }
        await h.stop()
    }

    /// A UDP player behind a downlink slower than the stream (1.6 Mbit/s into 0.7 Mbit/s, a 400 ms drop-tail
    /// queue: a relay between it and the server's port): the server sees the queue grow in the player's
    /// transport-cc feedback and drops video to the next keyframe, as it does for a backed-up connection,
    /// instead of filling the path until it loses. The player is told of the drops, resumes at keyframes,
    /// and what reaches it is fresh.
    func testASlowUDPDownlinkDropsVideoToKeyframesInsteadOfQueueing() async throws {
        let h = try await ServerHarness { $0.udpHost = "127.0.0.1"; $0.udpPort = 0; $0.udpAdvertise = "127.0.0.2" }
        guard let udp = h.server.udpAddress, let port = udp.port else { return XCTFail("no UDP port") }
        let relay = try await UDPRelay(listenHost: "127.0.0.2", port: port, server: udp,
                                       downlinkBitsPerSecond: 700_000, queueMilliseconds: 400)
        let alice = h.client("alice", port: h.port) { $0.mediaTransport = .tcp }
        let bob = h.client("bob", port: h.port) { $0.mediaTransport = .udp }
        let bobLog = EventLog(bob)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let queue = MediaQueue()
        try await bob.play(streamID: "cam", into: queue)
        let down = await transport(bobLog, role: "player")
        XCTAssertEqual(down?.transport, "udp", down?.reason ?? "")

        let sending = Task.detached { await UDPMediaTests.sendVideo(publisher, count: 240, gop: 30, size: 6500) }
        var received: [(index: Int, latency: Double)] = []
        let deadline = Date().addingTimeInterval(12)
        while Date() < deadline, received.last?.index != 239 {
            guard let item = queue.pop(until: Date().addingTimeInterval(0.2)) else { continue }
            if case .frame(let f) = item, let i = Self.index(f) {
                let now = Double(Date().timeIntervalSince1970 * 1_000_000)
                received.append((i, (now - Double(f.header.captureTime)) / 1000))
            }
        }
        let sent = await sending.value
        let relayed = relay.counters
        XCTAssertEqual(sent.count, 240)
        XCTAssertGreaterThan(queue.counters.framesDroppedUpstream, 30, "the server dropped video for the slow downlink")
        // Video kept coming: every keyframe, and the frames after it that the downlink had time for.
        let indices = Set(received.map(\.index))
        XCTAssertEqual((0..<8).filter { !indices.contains($0 * 30) }, [], "keyframes missing: \(received.map(\.index))")
        XCTAssertGreaterThan(received.count, 16, "\(received.map(\.index))")
        // Each run after a gap starts at a keyframe (the server resumed there; no frame given up mid-GOP).
        for (previous, next) in zip(received, received.dropFirst()) where next.index != previous.index + 1 {
            XCTAssertEqual(next.index % 30, 0, "after \(previous.index) came \(next.index)")
        }
        // Fresh: past the first two seconds no frame waited as long as the path's queue could hold (400 ms,
        // beside the 75 ms a frame takes through the bottleneck; a full queue and its repairs make 500-900).
        let late = received.filter { $0.index >= 60 }.map(\.latency)
        XCTAssertLessThan(late.max() ?? 0, 475, "latencies \(late.map { Int($0) })")
        XCTAssertLessThan(Double(relayed.dropped), Double(relayed.toClient) * 0.05,
                          "the path's queue was not filled until it dropped: \(relayed)")
        for c in [alice, bob] { await c.logout() }
        await relay.close()
        await h.stop()
    }

    func testFallsBackToTCPWhenUDPGetsNoAnswer() async throws {
        // The server tells clients to send to an address where nothing answers (TEST-NET-1), as a firewall would.
        let h = try await ServerHarness { $0.udpHost = "0.0.0.0"; $0.udpPort = 0; $0.udpAdvertise = "192.0.2.1" }
        let alice = h.client("alice"), bob = h.client("bob")
        let aliceLog = EventLog(alice), bobLog = EventLog(bob)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let began = Date()
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let queue = MediaQueue()
        try await bob.play(streamID: "cam", into: queue)
        let up = await transport(aliceLog, role: "publisher")
        let down = await transport(bobLog, role: "player")
        XCTAssertEqual(up?.transport, "tcp")
        XCTAssertEqual(down?.transport, "tcp")
        XCTAssertLessThan(Date().timeIntervalSince(began), 3.5, "auto falls back within about 2 s")
        XCTAssertTrue(up?.reason.contains("no answer") == true, up?.reason ?? "")
        let sent = await Self.sendVideo(publisher, count: 45)
        let items = drain(queue, seconds: 3) { items in
            items.contains { if case .frame(let f) = $0 { return Self.index(f) == sent.count - 1 }; return false }
        }
        let indices = items.compactMap { item -> Int? in if case .frame(let f) = item { return Self.index(f) }; return nil }
        XCTAssertEqual(indices.last, sent.count - 1, "the media came on the room connection")
        for c in [alice, bob] { await c.logout() }
        await h.stop()
    }

    func testTCPOnlyAndServersWithoutUDP() async throws {
        // A server without --udp: auto stays on the connection and says so; udp is refused in words.
        let h = try await ServerHarness()
        let alice = h.client("alice", port: h.port) { $0.mediaTransport = .udp }
        let carol = h.client("carol")
        let aliceLog = EventLog(alice), carolLog = EventLog(carol)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await carol.login(roomID: "r1", userStatus: false)
        _ = try await alice.publish(streamID: "a", tracks: [videoTrack])
        _ = try await carol.publish(streamID: "c", tracks: [videoTrack])
        let required = await transport(aliceLog, role: "publisher")
        XCTAssertEqual(required?.transport, "none")
        XCTAssertTrue(required?.reason.contains("serve --udp") == true, required?.reason ?? "")
        let auto = await transport(carolLog, role: "publisher")
        XCTAssertEqual(auto?.transport, "tcp")
        for c in [alice, carol] { await c.logout() }
        await h.stop()
    }
}
