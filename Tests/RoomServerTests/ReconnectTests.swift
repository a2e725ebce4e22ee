import Foundation
import RoomClient
import RoomProtocol
import RoomServer
import TestSupport
import XCTest

/// Network interruptions between a client and the server (a proxy that drops connections): the client
/// reconnects and resumes its session within the grace period, or gives up after its timeout.
final class ReconnectTests: XCTestCase {
    func testADroppedPublisherResumesAndTheRoomSeesNothing() async throws {
        let h = try await ServerHarness()
        let proxy = try await TCPProxy(targetPort: h.port)
        let alice = h.client("alice", port: proxy.port) { $0.reconnectTimeoutSeconds = 10 }
        let aliceLog = EventLog(alice)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])

        let bob = h.client("bob")
        let bobLog = EventLog(bob)
        _ = try await bob.login(roomID: "r1", userStatus: true)
        let queue = MediaQueue(capacity: 1000)
        try await bob.play(streamID: "cam", into: queue)
        sendFrames(publisher, count: 30, gop: 30)
        _ = drain(queue, seconds: 5) { $0.filter { if case .frame = $0 { return true } else { return false } }.count >= 30 }

        proxy.cut()
        _ = await aliceLog.wait { $0.roomState == .reconnecting }
        guard case .roomState(_, _, _, let reason, _)? = await aliceLog.wait(5, for: { $0.roomState == .reconnected }) else {
            return XCTFail("no reconnected: \(aliceLog.all.map(\.name))")
        }
        XCTAssertTrue(reason.hasPrefix("session resumed"), reason)
        // Frames after the reconnect reach bob on the same stream, starting at a keyframe.
        sendFrames(publisher, count: 30, gop: 30, startIndex: 30)
        let after = drain(queue, seconds: 5) { items in items.contains { if case .frame(let f) = $0 { return frameIndex(f) == 59 } else { return false } } }
        let indices = after.compactMap { item -> Int? in if case .frame(let f) = item { return frameIndex(f) } else { return nil } }
        XCTAssertEqual(indices.first, 30, "the first frame after the reconnect is the keyframe the publisher waited for")
        XCTAssertEqual(indices.last, 59)
        XCTAssertFalse(after.contains { if case .stopped = $0 { return true } else { return false } }, "bob's play never stopped")
        // The room saw no leave, no stream removed.
        XCTAssertFalse(bobLog.all.contains { $0.userUpdate?.updateType == .delete }, "\(bobLog.all.map(\.name))")
        XCTAssertFalse(bobLog.all.contains { $0.streamUpdate?.updateType == .delete }, "\(bobLog.all.map(\.name))")
        XCTAssertEqual(h.server.counts.users, 2)
        await alice.logout()
        await bob.logout()
        await proxy.stop()
        await h.stop()
    }

    func testGraceExpiresAndTheClientGivesUp() async throws {
        let h = try await ServerHarness { $0.reconnectGraceSeconds = 1 }
        let proxy = try await TCPProxy(targetPort: h.port)
        let alice = h.client("alice", port: proxy.port) { $0.reconnectTimeoutSeconds = 2 }
        let aliceLog = EventLog(alice)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let bob = h.client("bob")
        let bobLog = EventLog(bob)
        _ = try await bob.login(roomID: "r1", userStatus: true)

        proxy.refuse = true
        proxy.cut()
        // After the server's grace period the room sees alice leave and her stream end.
        _ = await bobLog.wait(4) { $0.streamUpdate?.updateType == .delete }
        _ = await bobLog.wait(4) { $0.userUpdate?.updateType == .delete && $0.userUpdate?.users.first?.userID == "alice" }
        // After its own timeout the client reports reconnect_failed and ends.
        _ = await aliceLog.wait(5) { $0.roomState == .reconnectFailed }
        guard case .reconnectFailed? = alice.endReason else { return XCTFail("\(String(describing: alice.endReason))") }
        await bob.logout()
        await proxy.stop()
        await h.stop()
    }
}
