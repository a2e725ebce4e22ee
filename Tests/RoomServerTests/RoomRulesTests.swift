import Foundation
import NIOCore
import NIOPosix
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// The room rules of the SDK guide, each with real clients on loopback sockets.
final class RoomRulesTests: XCTestCase {
    func testLoginGetsLiveStreamsAsAddedAndUsersOnlyWhenAsked() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack])

        let bob = h.client("bob")
        let bobLog = EventLog(bob)
        let result = try await bob.login(roomID: "r1", userStatus: true)
        XCTAssertEqual(result.streams.map(\.streamID), ["cam"])
        XCTAssertEqual(result.users.map(\.userID), ["alice"])
        let added = await bobLog.wait { $0.streamUpdate?.updateType == .add }
        XCTAssertEqual(added?.streamUpdate?.streams.first?.user.userID, "alice")

        let carol = h.client("carol")
        let carolLog = EventLog(carol)
        let carolResult = try await carol.login(roomID: "r1", userStatus: false)
        XCTAssertEqual(carolResult.users, [], "no user list without user status")
        // bob asked for user events and sees carol; alice did not ask.
        _ = await bobLog.wait { $0.userUpdate?.users.map(\.userID) == ["carol"] && $0.userUpdate?.updateType == .add }
        await carol.logout()
        _ = await bobLog.wait { $0.userUpdate?.users.map(\.userID) == ["carol"] && $0.userUpdate?.updateType == .delete }
        XCTAssertFalse(carolLog.all.contains { $0.userUpdate != nil })
        await alice.logout()
        await bob.logout()
        await h.stop()
    }

    /// Twenty logins at once into a room where everyone asked for user events: each member hears of every
    /// other member exactly once (in its login answer or in an add event), never of itself, and the member
    /// already in gets the burst in fewer events than there were logins.
    func testABurstOfLoginsReachesEveryMemberOnce() async throws {
        let h = try await ServerHarness()
        let watcher = h.client("watcher")
        let watcherLog = EventLog(watcher)
        _ = try await watcher.login(roomID: "r1", userStatus: true)
        let names = (0..<20).map { "u\($0)" }
        let clients = names.map { h.client($0) }
        let logs = clients.map { EventLog($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in clients { group.addTask { _ = try await c.login(roomID: "r1", userStatus: true) } }
            try await group.waitForAll()
        }
        let everyone = ["watcher"] + names
        func added(_ log: EventLog) -> [String] {
            log.all.compactMap(\.userUpdate).filter { $0.updateType == .add }.flatMap { $0.users.map(\.userID) }
        }
        for (name, log) in zip(everyone, [watcherLog] + logs) {
            let expected = everyone.filter { $0 != name }.sorted()
            _ = await log.wait { _ in Set(added(log)).count >= expected.count }
            try? await Task.sleep(for: .milliseconds(100))   // anything sent twice would have come by now
            XCTAssertEqual(added(log).sorted(), expected, "\(name) heard of the others once each, never of itself")
        }
        let watcherEvents = watcherLog.all.compactMap(\.userUpdate).filter { $0.updateType == .add }
        XCTAssertLessThan(watcherEvents.count, names.count, "the burst came gathered: \(watcherEvents.map(\.users.count))")
        for c in clients { await c.logout() }
        _ = await watcherLog.wait { _ in
            watcherLog.all.compactMap(\.userUpdate).filter { $0.updateType == .delete }.flatMap(\.users).count == names.count
        }
        await watcher.logout()
        await h.stop()
    }

    func testEventsStayInsideTheirRoom() async throws {
        let h = try await ServerHarness()
        let outsider = h.client("outsider")
        let log = EventLog(outsider)
        _ = try await outsider.login(roomID: "r2", userStatus: true)
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: true)
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        let insider = h.client("insider")
        let insiderLog = EventLog(insider)
        _ = try await insider.login(roomID: "r1", userStatus: true)
        try await alice.stopPublishing("cam")
        _ = await insiderLog.wait { $0.streamUpdate?.updateType == .delete }
        XCTAssertFalse(log.all.contains { $0.userUpdate != nil || $0.streamUpdate != nil }, "r2 saw r1's events: \(log.all.map(\.name))")
        for c in [outsider, alice, insider] { await c.logout() }
        await h.stop()
    }

    func testSecondPublisherOfALiveStreamIsRefused() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        _ = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        // Stream ids are unique within the app: another room does not help.
        let bob = h.client("bob")
        _ = try await bob.login(roomID: "r2", userStatus: false)
        do {
            _ = try await bob.publish(streamID: "cam", tracks: [videoTrack])
            XCTFail("duplicate publish accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .duplicateStream)
            XCTAssertEqual(error.description, "stream \"cam\" is already published in room \"r1\" by user \"alice\" (duplicate_stream)")
        }
        // Once alice stops, bob may publish it.
        try await alice.stopPublishing("cam")
        _ = try await bob.publish(streamID: "cam", tracks: [videoTrack])
        await alice.logout()
        await bob.logout()
        await h.stop()
    }

    func testSecondLoginWithTheSameUserKicksTheFirst() async throws {
        let h = try await ServerHarness()
        let first = h.client("alice")
        let firstLog = EventLog(first)
        _ = try await first.login(roomID: "r1", userStatus: false)
        _ = try await first.publish(streamID: "cam", tracks: [videoTrack])
        let watcher = h.client("watcher")
        let watcherLog = EventLog(watcher)
        _ = try await watcher.login(roomID: "r1", userStatus: true)

        let second = h.client("alice")
        _ = try await second.login(roomID: "r1", userStatus: false)
        let kicked = await firstLog.wait { $0.roomState == .kickedOut }
        guard case .roomState(_, _, let code, _, _)? = kicked else { return XCTFail("no kick event") }
        XCTAssertEqual(code, .kickedOut)
        XCTAssertEqual(first.endReason?.code, .kickedOut)
        // The kicked login's stream ended with it; the room was told.
        _ = await watcherLog.wait { $0.streamUpdate?.updateType == .delete }
        await second.logout()
        await watcher.logout()
        await h.stop()
    }

    func testPlayersGetFramesAndALateJoinerStartsAtTheCachedKeyframe() async throws {
        let h = try await ServerHarness()
        let alice = h.client("alice")
        _ = try await alice.login(roomID: "r1", userStatus: false)
        // A player that asks before the stream is live waits for it.
        let early = h.client("early")
        _ = try await early.login(roomID: "r1", userStatus: false)
        let earlyQueue = MediaQueue()
        try await early.play(streamID: "cam", into: earlyQueue)

        let publisher = try await alice.publish(streamID: "cam", tracks: [videoTrack])
        try await Task.sleep(for: .milliseconds(100))
        sendFrames(publisher, count: 25, gop: 10)  // keyframes at 0, 10, 20
        let early1 = drain(earlyQueue, seconds: 5) { $0.count >= 26 }
        guard case .started(let info)? = early1.first else { return XCTFail("no start: \(early1)") }
        XCTAssertEqual(info.tracks, [videoTrack])
        let indices = early1.compactMap { item -> Int? in if case .frame(let f) = item { return frameIndex(f) } else { return nil } }
        XCTAssertEqual(indices, Array(0..<25))

        let late = h.client("late")
        _ = try await late.login(roomID: "r1", userStatus: false)
        let lateQueue = MediaQueue()
        try await late.play(streamID: "cam", into: lateQueue)
        sendFrames(publisher, count: 5, gop: 10, startIndex: 25)
        let lateItems = drain(lateQueue, seconds: 5) { $0.count >= 11 }
        let lateIndices = lateItems.compactMap { item -> Int? in if case .frame(let f) = item { return frameIndex(f) } else { return nil } }
        XCTAssertEqual(lateIndices, Array(20..<30), "the joiner gets the GOP from keyframe 20, then live frames, in order")

        try await alice.stopPublishing("cam")
        let stopped = drain(earlyQueue, seconds: 5) { items in items.contains { if case .stopped = $0 { return true } else { return false } } }
        XCTAssertTrue(stopped.contains { if case .stopped = $0 { return true } else { return false } })
        for c in [alice, early, late] { await c.logout() }
        await h.stop()
    }
}
