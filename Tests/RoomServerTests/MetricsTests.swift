import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// `serve --metrics`: a real HTTP client scrapes the Prometheus text while a stream plays.
final class MetricsTests: XCTestCase {
    func testScrapeWhileAStreamPlays() async throws {
        let h = try await ServerHarness { $0.metricsHost = "127.0.0.1" }
        let port = try XCTUnwrap(h.server.metricsAddress?.port)
        let alice = h.client("alice"), bob = h.client("bob")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        _ = try await bob.login(roomID: "r1", userStatus: false)
        let queue = MediaQueue(capacity: 1000)
        try await bob.play(streamID: "cam", into: queue)
        let before = Self.parse(try await Self.get("http://127.0.0.1:\(port)/metrics").0)
        sendFrames(publisher, count: 60, gop: 30)
        let received = drain(queue, seconds: 5) { items in items.filter { if case .frame = $0 { return true } else { return false } }.count >= 60 }
        XCTAssertEqual(received.filter { if case .frame = $0 { return true } else { return false } }.count, 60)
        _ = try? await h.client("alice").login(roomID: "r1", userStatus: false)  // a takeover, counted as a login too

        let (body, response) = try await Self.get("http://127.0.0.1:\(port)/metrics")
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertTrue(((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/plain"))
        let values = Self.parse(body)
        XCTAssertEqual(values["rtcbox_rooms"], 1)
        XCTAssertEqual(values["rtcbox_users"], 2)
        XCTAssertEqual(values["rtcbox_connections"], 2, "alice's first connection was kicked and closed")
        XCTAssertEqual(values["rtcbox_logins_total{result=\"ok\"}"], 3)
        XCTAssertEqual(values["rtcbox_media_frames_in_total"], 60)
        XCTAssertGreaterThan(values["rtcbox_bytes_in_total"] ?? 0, 60 * 30)
        XCTAssertGreaterThan(values["rtcbox_bytes_out_total"] ?? 0, 60 * 30)
        // Media to a TCP player skips the byte-counting handler; the fan-out counts it: 60 frames of
        // length, type, media header and a 9-byte payload reached bob between the two scrapes.
        let mediaBytes = Double(60 * (5 + MediaFrameHeader.size + 9))
        XCTAssertGreaterThanOrEqual((values["rtcbox_bytes_out_total"] ?? 0) - (before["rtcbox_bytes_out_total"] ?? 0), mediaBytes)
        XCTAssertEqual(values["rtcbox_join_seconds_count"], 1)
        XCTAssertEqual(values["rtcbox_fanout_video_delay_seconds_count"], 2, "frames 30 and 60 timed, for bob")
        XCTAssertEqual(values["rtcbox_login_seconds_count"], 3)
        XCTAssertNotNil(values["rtcbox_frames_dropped_total"])
        XCTAssertNotNil(values["rtcbox_slow_consumers_total"])
        XCTAssertTrue(body.contains("rtcbox_join_seconds_bucket{le=\"0.05\"}"), body)

        let (_, missing) = try await Self.get("http://127.0.0.1:\(port)/other")
        XCTAssertEqual((missing as? HTTPURLResponse)?.statusCode, 404)
        await bob.logout()
        await h.stop()
    }

    static func get(_ url: String) async throws -> (String, URLResponse) {
        let (data, response) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: url)))
        return (String(decoding: data, as: UTF8.self), response)
    }

    /// "name{labels} value" lines into a dictionary (comments skipped).
    static func parse(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }
}
