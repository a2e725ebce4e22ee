import Foundation
import RoomClient
import RoomProtocol
import RoomServer
import TestSupport
import XCTest

/// An impaired link between a publisher and the server (tc netem is not available on this machine's
/// kernel, so a proxy plays the link): 100 ms round trip, then a 6 s outage in which nothing arrives and
/// the connection is not closed. The publisher must notice on its own, reconnect, resume, and its
/// player's latency must come back under 0.5 s within a few seconds.
final class ImpairedLinkTests: XCTestCase {
    func testDelayThenAnOutageThenRecovery() async throws {
        let h = try await ServerHarness()
        let proxy = try await TCPProxy(targetPort: h.port)
        proxy.delay = .milliseconds(50)
        let alice = h.client("alice", port: proxy.port) {
            $0.reconnectTimeoutSeconds = 30
            $0.requestTimeoutSeconds = 4
        }
        let aliceLog = EventLog(alice)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let bob = h.client("bob")
        let bobLog = EventLog(bob)
        _ = try await bob.login(roomID: "r1", userStatus: true)
        let queue = MediaQueue(capacity: 10_000)
        try await bob.play(streamID: "cam", into: queue)

        // A live sender: 30 frames a second with the capture clock, until the end of the test.
        let sending = Task.detached {
            var i = 0
            while !Task.isCancelled {
                sendFrames(publisher, count: 1, gop: 30, startIndex: i)
                i += 1
                try? await Task.sleep(for: .milliseconds(33))
            }
        }
        defer { sending.cancel() }
        /// Capture-to-arrival latency of each frame popped in the next `seconds`, taken as it is popped.
        func latencies(for seconds: Double) -> [Double] {
            var out: [Double] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let item = queue.pop(until: Date().addingTimeInterval(0.05)), case .frame(let f) = item else { continue }
                out.append(Double(StreamCounters.wallClock() - f.header.captureTime) / 1000)
            }
            return out
        }
        let before = latencies(for: 2)
        XCTAssertGreaterThan(before.count, 40)
        let beforeMedian = before.sorted()[before.count / 2]
        XCTAssertGreaterThan(beforeMedian, 45, "the proxy's 50 ms one-way delay shows")
        XCTAssertLessThan(beforeMedian, 150)

        // The outage: nothing passes for 6 s, the TCP connection stays up.
        proxy.paused = true
        _ = await aliceLog.wait(8) { $0.roomState == .reconnecting }
        try await Task.sleep(for: .milliseconds(1500))
        proxy.paused = false
        _ = await aliceLog.wait(15) { $0.roomState == .reconnected }
        // Within a few seconds of the recovery the player is back near live.
        _ = latencies(for: 2)
        let after = latencies(for: 2)
        XCTAssertGreaterThan(after.count, 40, "frames flow again after the outage")
        XCTAssertLessThan(after.sorted()[after.count / 2], 500, "latency back under 0.5 s: \(after.sorted()[after.count / 2]) ms")
        // The room saw no stream end: the session resumed.
        XCTAssertFalse(bobLog.all.contains { $0.streamUpdate?.updateType == .delete }, "\(bobLog.all.map(\.name))")
        sending.cancel()
        await alice.logout()
        await bob.logout()
        await proxy.stop()
        await h.stop()
    }
}
