import Foundation
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// Room extra info, stream extra info, broadcast messages and custom commands between real clients.
final class RoomExtrasTests: XCTestCase {
    func testExtraInfoReachesMembersAndLaterLogins() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice"), bob = h.client("bob"), outsider = h.client("outsider")
        let bobLog = EventLog(bob), outsiderLog = EventLog(outsider)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        _ = try await outsider.login(roomID: "r2", userStatus: false)

        try await alice.setRoomExtraInfo(key: "topic", value: "standup")
        guard case .roomExtraInfoUpdate(let update)? = await bobLog.wait(for: { if case .roomExtraInfoUpdate = $0 { return true } else { return false } }) else {
            return XCTFail("bob saw no room_extra_info_update")
        }
        XCTAssertEqual(update.extraInfo.map(\.key), ["topic"])
        XCTAssertEqual(update.extraInfo.first?.value, "standup")
        XCTAssertEqual(update.extraInfo.first?.updateUser.userID, "alice")

        let late = h.client("late")
        let result = try await late.login(roomID: "r1", userStatus: false)
        XCTAssertEqual(result.roomExtraInfo.map(\.value), ["standup"])

        // Limits.
        for (key, value, code) in [("", "v", RoomErrorCode.badRequest),
                                   (String(repeating: "k", count: 129), "v", .valueTooLong),
                                   ("k", String(repeating: "v", count: 4097), .valueTooLong)] {
            do {
                try await alice.setRoomExtraInfo(key: key, value: value)
                XCTFail("accepted key of \(key.count) bytes, value of \(value.count)")
            } catch let error as RoomClientError {
                XCTAssertEqual(error.code, code)
            }
        }
        try await alice.setRoomExtraInfo(key: String(repeating: "k", count: 128), value: String(repeating: "v", count: 4096))

        // Stream extra info changes while live.
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack], extraInfo: "front")
        try await alice.setStreamExtraInfo(streamID: "cam", extraInfo: "back")
        guard case .roomStreamExtraInfoUpdate(let streams)? = await bobLog.wait(for: { if case .roomStreamExtraInfoUpdate = $0 { return true } else { return false } }) else {
            return XCTFail("bob saw no room_stream_extra_info_update")
        }
        XCTAssertEqual(streams.streams.first?.extraInfo, "back")
        let later = h.client("later")
        let laterResult = try await later.login(roomID: "r1", userStatus: false)
        XCTAssertEqual(laterResult.streams.first?.extraInfo, "back")
        do {
            try await bob.setStreamExtraInfo(streamID: "cam", extraInfo: "x")
            XCTFail("a non-publisher changed the stream's extra info")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .notPublishing)
        }
        do {
            try await alice.setStreamExtraInfo(streamID: "cam", extraInfo: String(repeating: "x", count: 1025))
            XCTFail("1025 bytes of stream extra info accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .valueTooLong)
        }

        XCTAssertFalse(outsiderLog.all.contains { if case .roomExtraInfoUpdate = $0 { return true } else { return false } })
        for c in [alice, bob, outsider, late, later] { await c.logout() }
        await h.stop()
    }

    func testBroadcastMessagesAndTheirRateLimit() async throws {
        let h = try await ServerHarness { $0.apps = [AppConfiguration(appID: 1, allowsAnonymous: true, messagesPerSecond: 3)] }
        let alice = h.client("alice"), bob = h.client("bob"), outsider = h.client("outsider")
        let aliceLog = EventLog(alice), bobLog = EventLog(bob), outsiderLog = EventLog(outsider)
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await bob.login(roomID: "r1", userStatus: false)
        _ = try await outsider.login(roomID: "r2", userStatus: false)

        let first = try await bob.sendBroadcastMessage("hi alice")
        guard case .broadcastMessage(let m)? = await aliceLog.wait(for: { if case .broadcastMessage = $0 { return true } else { return false } }) else {
            return XCTFail("alice got no broadcast_message")
        }
        XCTAssertEqual(m.message, "hi alice")
        XCTAssertEqual(m.fromUser.userID, "bob")
        XCTAssertEqual(m.messageID, first)
        _ = try await alice.sendBroadcastMessage("hi bob")
        _ = await bobLog.wait { if case .broadcastMessage(let m) = $0 { return m.message == "hi bob" } else { return false } }

        // 3 per second: one more is accepted, the next is refused until the bucket refills.
        _ = try await alice.sendBroadcastMessage("third")
        do {
            _ = try await alice.sendBroadcastMessage("fourth")
            XCTFail("the rate limit let a 4th message through within a second")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .rateLimited)
        }
        try await Task.sleep(for: .milliseconds(500))
        _ = try await alice.sendBroadcastMessage("after a pause")

        do {
            _ = try await alice.sendBroadcastMessage(String(repeating: "x", count: 1025))
            XCTFail("a 1025-byte message was accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .valueTooLong)
        }
        XCTAssertFalse(bobLog.all.contains { if case .broadcastMessage(let m) = $0 { return m.fromUser.userID == "bob" } else { return false } },
                       "a sender got its own message back")
        XCTAssertFalse(outsiderLog.all.contains { if case .broadcastMessage = $0 { return true } else { return false } })
        for c in [alice, bob, outsider] { await c.logout() }
        await h.stop()
    }

    func testCustomCommandsGoOnlyToListedMembers() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice"), bob = h.client("bob"), carol = h.client("carol")
        let bobLog = EventLog(bob), carolLog = EventLog(carol)
        for c in [alice, bob, carol] { _ = try await c.login(roomID: "r1", userStatus: false) }
        try await alice.sendCustomCommand("mute", to: ["bob", "nobody"])
        guard case .customCommand(let c)? = await bobLog.wait(for: { if case .customCommand = $0 { return true } else { return false } }) else {
            return XCTFail("bob got no custom_command")
        }
        XCTAssertEqual(c.command, "mute")
        XCTAssertEqual(c.fromUser.userID, "alice")
        do {
            try await alice.sendCustomCommand("x", to: ["nobody"])
            XCTFail("a command to nobody in the room was accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .userNotFound)
        }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertFalse(carolLog.all.contains { if case .customCommand = $0 { return true } else { return false } })
        for c in [alice, bob, carol] { await c.logout() }
        await h.stop()
    }
}
