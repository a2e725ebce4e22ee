import Foundation
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// A live stream described anew (traffic control's smaller size): the description is ordered with the
/// media on every player's connection, kept for later plays and told to the room.
final class StreamTracksTests: XCTestCase {
    func testNewTracksReachPlayersInOrderWithTheMediaAndLaterPlays() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice"), bob = h.client("bob"), carol = h.client("carol")
        let bobLog = EventLog(bob), carolLog = EventLog(carol)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        _ = try await carol.login(roomID: "r1", userStatus: false)
        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let queue = MediaQueue(capacity: 256)
        try await bob.play(streamID: "cam", into: queue)
        _ = drain(queue, seconds: 5) { $0.contains { if case .started = $0 { return true } else { return false } } }

        sendFrames(publisher, count: 10, gop: 10)
        var smaller = videoTrack
        smaller.width = 160
        smaller.height = 120
        publisher.updateVideoTrack(smaller)
        XCTAssertEqual(publisher.tracks, [smaller], "a republish after a reconnect describes the new tracks")
        sendFrames(publisher, count: 10, gop: 10, startIndex: 10)

        let items = drain(queue, seconds: 5) { items in items.filter { if case .frame = $0 { return true } else { return false } }.count == 20 }
        let order = items.map { item -> String in
            switch item {
            case .frame(let f): return "\(frameIndex(f))"
            case .tracksChanged(let info): return "tracks \(info.tracks.first?.width ?? 0)"
            default: return "other"
            }
        }
        XCTAssertEqual(order, (0..<10).map(String.init) + ["tracks 160"] + (10..<20).map(String.init),
                       "the new description comes just before the first frame made after it")

        guard case .playerVideoSizeChanged(let stream, let width, let height, _)? = await bobLog.wait(for: {
            if case .playerVideoSizeChanged = $0 { return true } else { return false }
        }) else { return XCTFail("bob's player saw no player_video_size_changed") }
        XCTAssertEqual([stream, "\(width)x\(height)"], ["cam", "160x120"])
        guard case .roomStreamTracksUpdate(let update)? = await carolLog.wait(for: {
            if case .roomStreamTracksUpdate = $0 { return true } else { return false }
        }) else { return XCTFail("carol, in the room, saw no room_stream_tracks_update") }
        XCTAssertEqual(update.streams.first?.tracks, [smaller])
        XCTAssertFalse(carolLog.all.contains { if case .playerVideoSizeChanged = $0 { return true } else { return false } },
                       "carol plays nothing: no player event")

        // A play that starts now gets the new description.
        let later = MediaQueue(capacity: 64)
        try await carol.play(streamID: "cam", into: later)
        let started = drain(later, seconds: 5) { $0.contains { if case .started = $0 { return true } else { return false } } }
        guard case .started(let info)? = started.first(where: { if case .started = $0 { return true } else { return false } }) else {
            return XCTFail("carol's play did not start")
        }
        XCTAssertEqual(info.tracks, [smaller])
    }

    func testOnlyThePublisherDescribesItsStreamAndOnlyTheTracksItHas() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice"), bob = h.client("bob")
        let aliceLog = EventLog(alice)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        _ = try await bob.publish(streamID: "bobcam", tracks: [videoTrack])
        let audio = TrackInfo(kind: .audio, codec: "aac", sampleRate: 48000, channels: 2)
        for (tracks, stream, code) in [([videoTrack], "cam", RoomErrorCode.notPublishing),
                                       ([videoTrack, audio], "bobcam", .badRequest)] {
            do {
                try await bob.setStreamTracks(streamID: stream, tracks: tracks)
                XCTFail("set_stream_tracks \(stream) with \(tracks.count) tracks accepted")
            } catch let error as RoomClientError {
                XCTAssertEqual(error.code, code, "\(error)")
            }
        }
        try await bob.setStreamTracks(streamID: "bobcam", tracks: [videoTrack])
        XCTAssertTrue(aliceLog.all.allSatisfy { if case .roomState(_, .disconnected, _, _, _) = $0 { return false } else { return true } })
    }
}
