import Foundation
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// Keyframe requests reach the publisher: when a player joins and when one asks, at most once a second.
final class KeyframeRequestTests: XCTestCase {
    func waitForRequest(_ publisher: StreamPublisher, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if publisher.takeKeyframeRequest() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    func testJoinsAndRequestsAreRelayedAndRateLimited() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        sendFrames(publisher, count: 5, gop: 30)

        let bob = h.client("bob"), carol = h.client("carol")
        _ = try await bob.login(roomID: "r1", userStatus: false)
        _ = try await carol.login(roomID: "r1", userStatus: false)
        try await bob.play(streamID: "cam", into: MediaQueue())
        let joined = await waitForRequest(publisher, seconds: 2)
        XCTAssertTrue(joined, "a join asks the publisher for a keyframe")
        // A second join and an explicit request within the same second: no second request.
        try await carol.play(streamID: "cam", into: MediaQueue())
        carol.requestKeyframe(streamID: "cam")
        let again = await waitForRequest(publisher, seconds: 0.5)
        XCTAssertFalse(again, "keyframe requests are limited to one per second")
        // After the second has passed, a player's request goes through.
        try await Task.sleep(for: .milliseconds(700))
        bob.requestKeyframe(streamID: "cam")
        let later = await waitForRequest(publisher, seconds: 2)
        XCTAssertTrue(later)
        for c in [alice, bob, carol] { await c.logout() }
        await h.stop()
    }
}
