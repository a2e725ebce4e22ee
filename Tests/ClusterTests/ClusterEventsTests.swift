@testable import Cluster
import Foundation
import Logging
import TestSupport
import XCTest

/// The cursor alone: what a node gives its members of a room's events, without a database.
final class RoomEventCursorTests: XCTestCase {
    let key = RoomEventCursor.Key(app: 1, room: "r1")
    func event(_ seq: Int64) -> RoomEvent { RoomEvent(app: 1, room: "r1", seq: seq, origin: "n", payload: "\(seq)") }

    /// The NOTIFY payload, "APP/SEQ/ROOM": anything else is ignored, never trusted.
    func testEventPointers() {
        XCTAssertEqual(EventPointer.parse("7/42/r1")?.seq, 42)
        XCTAssertEqual(EventPointer.parse("7/42/r1")?.app, 7)
        XCTAssertEqual(EventPointer.parse("7/42/r.1-x")?.room, "r.1-x")
        for bad in ["", "7", "7/42", "7/42/", "x/42/r1", "7/x/r1", "-1/2/r", "4294967296/1/r", "7/99999999999999999999/r"] {
            XCTAssertNil(EventPointer.parse(bad), bad)
        }
    }

    func testEachEventOnceInOrderAndNothingPastAGap() {
        var cursor = RoomEventCursor()
        XCTAssertNil(cursor.wants(key, seq: 3), "a room not followed is not read")
        XCTAssertEqual(cursor.take(key, [event(1)]), [])
        cursor.follow(key, after: 2)
        XCTAssertNil(cursor.wants(key, seq: 2), "already known when following began")
        XCTAssertEqual(cursor.wants(key, seq: 5), 2, "read after 2")
        XCTAssertEqual(cursor.take(key, [event(5), event(3), event(4), event(2)]).map(\.seq), [3, 4, 5], "in order, each once")
        XCTAssertEqual(cursor.take(key, [event(4), event(5)]), [], "a late duplicate gives nothing")
        XCTAssertEqual(cursor.take(key, [event(6), event(8)]).map(\.seq), [6], "held back after a gap")
        XCTAssertEqual(cursor.last[key], 6)
        cursor.follow(key, after: 1)
        XCTAssertEqual(cursor.last[key], 6, "following again never moves back")
        cursor.unfollow(key)
        XCTAssertNil(cursor.wants(key, seq: 9))
    }
}

/// Room events across nodes on a real PostgreSQL: ordered per room, none lost when the listening connection
/// drops (replay from the table), a node's own events skipped.
final class ClusterEventsTests: XCTestCase {
    nonisolated(unsafe) static var server: PostgresTestServer?

    override class func tearDown() {
        server?.stop()
        server = nil
    }

    func database() throws -> PostgresTestServer {
        if let server = Self.server { return server }
        guard PostgresTestServer.binaries != nil || ProcessInfo.processInfo.environment["RTCBOX_REQUIRE_POSTGRES"] == "1" else {
            throw XCTSkip("no PostgreSQL installed (scripts/install-deps installs it)")
        }
        let server = try PostgresTestServer()
        Self.server = server
        return server
    }

    func store(_ name: String, _ server: PostgresTestServer) throws -> ClusterStore {
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .error
        return ClusterStore(url: try ClusterDatabaseURL(parsing: server.url), node: "\(name)-\(UUID().uuidString.prefix(6))", logger: logger)
    }

    /// Collects `count` events from the feed, or what came within `seconds`.
    func collect(_ feed: ClusterEventFeed, _ count: Int, seconds: Double = 10) async -> [RoomEvent] {
        await withTaskGroup(of: [RoomEvent].self) { group in
            group.addTask {
                var got: [RoomEvent] = []
                for await event in feed.events {
                    got.append(event)
                    if got.count == count { break }
                }
                return got
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return []
            }
            var best: [RoomEvent] = []
            for await result in group where !result.isEmpty || best.isEmpty {
                best = result
                if !result.isEmpty { break }
            }
            group.cancelAll()
            return best
        }
    }

    func testEventsReachTheOtherNodeInOrderPerRoomAndSurviveALostConnection() async throws {
        let server = try database()
        let (a, b) = (try store("a", server), try store("b", server))
        for node in [a, b] {
            try await node.migrate()
            try await node.register(advertise: "127.0.0.1:1", leaseSeconds: 60)
        }
        var feedLogger = Logger(label: "test.feed")
        feedLogger.logLevel = .error   // the dropped connection below is a warning
        let feed = ClusterEventFeed(store: a, logger: feedLogger)
        let rooms = ["r1-\(UUID().uuidString.prefix(4))", "r2-\(UUID().uuidString.prefix(4))"]
        for room in rooms { feed.follow(app: 1, room: room, after: 0) }
        feed.start()
        for _ in 0..<100 where !feed.listening.withLockedValue({ $0 }) { try await Task.sleep(nanoseconds: 50_000_000) }
        XCTAssertTrue(feed.listening.withLockedValue { $0 })

        // b appends 30 events to each room from three concurrent tasks; a's own event is not fed back to it.
        try await a.appendRoomEvent(app: 1, room: rooms[0], payload: "from a")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<3 {
                group.addTask {
                    for i in 0..<10 {
                        for room in rooms { try await b.appendRoomEvent(app: 1, room: room, payload: "t\(task)-\(i)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let first = await collect(feed, 60)
        XCTAssertEqual(first.count, 60, "\(first.count) of 60")
        for room in rooms {
            let seqs = first.filter { $0.room == room }.map(\.seq)
            XCTAssertEqual(seqs, seqs.sorted(), "in order in \(room)")
            XCTAssertEqual(seqs.count, 30)
        }
        XCTAssertEqual(first.filter { $0.room == rooms[0] }.first?.seq, 2, "seq 1 was a's own")
        XCTAssertFalse(first.contains { $0.origin == a.node })

        // The listening connection dies (the database ends it); events appended meanwhile are replayed.
        _ = try server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
        for i in 0..<5 { try await b.appendRoomEvent(app: 1, room: rooms[1], payload: "while away \(i)") }
        let second = await collect(feed, 5)
        XCTAssertEqual(second.map(\.payload), (0..<5).map { "while away \($0)" }, "none lost, none twice")
        XCTAssertEqual(second.map(\.seq), Array(31...35))
        let sequence = try await a.roomSequence(app: 1, room: rooms[1])
        XCTAssertEqual(sequence, 35)
        await feed.stop()
        for node in [a, b] { await node.close() }
    }
}
