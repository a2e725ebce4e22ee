import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// One room event as every node sees it: its room's sequence number orders it.
public struct RoomEvent: Sendable, Equatable {
    public var app: UInt32
    public var room: String
    /// 1, 2, 3, ... per (app, room): no gaps, in commit order.
    public var seq: Int64
    /// The node that appended it (a node skips its own: it delivered them locally already).
    public var origin: String
    /// The event, as the room protocol's JSON (opaque here).
    public var payload: String

    public init(app: UInt32, room: String, seq: Int64, origin: String, payload: String) {
        self.app = app; self.room = room; self.seq = seq; self.origin = origin; self.payload = payload
    }
}

/// The NOTIFY payload: a pointer to a row, never the event (NOTIFY payloads stop at 8000 bytes): "APP/SEQ/ROOM".
enum EventPointer {
    static let channel = "rtcbox_room_events"

    static func parse(_ payload: String) -> (app: UInt32, room: String, seq: Int64)? {
        let parts = payload.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let app = UInt32(parts[0]), let seq = Int64(parts[1]), !parts[2].isEmpty else { return nil }
        return (app, String(parts[2]), seq)
    }
}

/// Which events a node has given its members, per followed room: pure, so replay after a lost connection and
/// duplicate or late notifications are decided without a database.
public struct RoomEventCursor: Sendable, Equatable {
    public struct Key: Hashable, Sendable {
        public var app: UInt32
        public var room: String
        public init(app: UInt32, room: String) { self.app = app; self.room = room }
    }

    /// The last sequence number given out, per followed room.
    public private(set) var last: [Key: Int64] = [:]

    public init() {}

    /// Follows a room from after `seq` (what the node's members already know: the room's sequence when they
    /// joined). Following again keeps the later position.
    public mutating func follow(_ key: Key, after seq: Int64) {
        last[key] = max(last[key] ?? seq, seq)
    }

    public mutating func unfollow(_ key: Key) { last[key] = nil }

    /// A notification of `seq` in a room: whether rows after the cursor must be read (nil: not followed, or
    /// already given out).
    public func wants(_ key: Key, seq: Int64) -> Int64? {
        guard let after = last[key], seq > after else { return nil }
        return after
    }

    /// Rows read for a room (in seq order): the ones to give out, each exactly once, and the cursor moves past
    /// them. Rows at or before the cursor, or after a gap, are held back (a gap cannot commit under the room's
    /// lock; a row past one is read again with the next notification).
    public mutating func take(_ key: Key, _ rows: [RoomEvent]) -> [RoomEvent] {
        guard var position = last[key] else { return [] }
        var out: [RoomEvent] = []
        for row in rows.sorted(by: { $0.seq < $1.seq }) where row.seq > position {
            guard row.seq == position + 1 else { break }
            out.append(row)
            position = row.seq
        }
        last[key] = position
        return out
    }
}

extension ClusterStore {
    /// Appends an event to a room: its sequence number is the room's next, taken under the room's advisory lock
    /// (held to commit, so numbers commit in order with no gaps), and a NOTIFY on commit points at it.
    @discardableResult
    public func appendRoomEvent(app: UInt32, room: String, payload: String) async throws(ClusterError) -> Int64 {
        let node = self.node
        return try await run("append an event to room \(room)") { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\("rtcbox-room/\(app)/\(room)"), 0))", logger: logger)
                let next = try await connection.query("""
                    SELECT coalesce(max(seq), 0) + 1 FROM rtcbox_room_events WHERE app_id = \(Int64(app)) AND room_id = \(room)
                    """, logger: logger)
                var seq: Int64 = 1
                for try await value in next.decode(Int64.self) { seq = value }
                try await connection.query("""
                    INSERT INTO rtcbox_room_events (app_id, room_id, seq, origin_node, payload)
                    VALUES (\(Int64(app)), \(room), \(seq), \(node), \(payload))
                    """, logger: logger)
                try await connection.query("SELECT pg_notify(\(EventPointer.channel), \("\(app)/\(seq)/\(room)"))", logger: logger)
                return seq
            }
        }
    }

    /// A room's events after `seq`, in order (at most `limit`).
    public func roomEvents(app: UInt32, room: String, after seq: Int64, limit: Int = 1000) async throws(ClusterError) -> [RoomEvent] {
        try await run("read the events of room \(room)") { client, logger in
            let rows = try await client.query("""
                SELECT seq, origin_node, payload FROM rtcbox_room_events
                WHERE app_id = \(Int64(app)) AND room_id = \(room) AND seq > \(seq) ORDER BY seq LIMIT \(limit)
                """, logger: logger)
            var out: [RoomEvent] = []
            for try await (seq, origin, payload) in rows.decode((Int64, String, String).self) {
                out.append(RoomEvent(app: app, room: room, seq: seq, origin: origin, payload: payload))
            }
            return out
        }
    }

    /// A room's sequence so far (what a member joining now already knows).
    public func roomSequence(app: UInt32, room: String) async throws(ClusterError) -> Int64 {
        try await run("read the sequence of room \(room)") { client, logger in
            let rows = try await client.query("""
                SELECT coalesce(max(seq), 0) FROM rtcbox_room_events WHERE app_id = \(Int64(app)) AND room_id = \(room)
                """, logger: logger)
            var seq: Int64 = 0
            for try await value in rows.decode(Int64.self) { seq = value }
            return seq
        }
    }

    /// Deletes events older than `seconds` (a node that was away longer than that has lost its lease anyway).
    @discardableResult
    public func trimRoomEvents(olderThan seconds: Int) async throws(ClusterError) -> Int {
        try await run("trim room events") { client, logger in
            let rows = try await client.query("""
                DELETE FROM rtcbox_room_events WHERE at < now() - make_interval(secs => \(seconds)) RETURNING seq
                """, logger: logger)
            return try await rows.collect().count
        }
    }
}

/// A node's feed of other nodes' room events, for the rooms it follows: one dedicated connection LISTENs for
/// the pointers; each pointer makes it read the room's rows after its cursor. When the connection drops it
/// connects again and reads every followed room after its cursor, so a NOTIFY missed while it was away is
/// not a lost event. Events come out in order per room, each once; the node's own are skipped.
public final class ClusterEventFeed: Sendable {
    private let store: ClusterStore
    private let logger: Logger
    private let state = NIOLockedValueBox(RoomEventCursor())
    private let continuation: AsyncStream<RoomEvent>.Continuation
    public let events: AsyncStream<RoomEvent>
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// The dedicated connection's ups and downs, for tests and logs: true when listening.
    public let listening = NIOLockedValueBox(false)

    public init(store: ClusterStore, logger: Logger) {
        self.store = store
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: RoomEvent.self, bufferingPolicy: .unbounded)
    }

    public func follow(app: UInt32, room: String, after seq: Int64) {
        state.withLockedValue { $0.follow(.init(app: app, room: room), after: seq) }
    }

    public func unfollow(app: UInt32, room: String) {
        state.withLockedValue { $0.unfollow(.init(app: app, room: room)) }
    }

    public func start() {
        task.withLockedValue { current in
            guard current == nil else { return }
            current = Task { await self.loop() }
        }
    }

    public func stop() async {
        let running = task.withLockedValue { t in defer { t = nil }; return t }
        running?.cancel()
        _ = await running?.value
        continuation.finish()
    }

    private func loop() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(), configuration: store.connectionConfiguration(),
                    id: 1, logger: logger).get()
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: EventPointer.channel) { notifications in
                    listening.withLockedValue { $0 = true }
                    attempt = 0
                    try await catchUp()   // what was missed while not listening
                    for try await notification in notifications {
                        guard let pointer = EventPointer.parse(notification.payload) else { continue }
                        try await read(.init(app: pointer.app, room: pointer.room), upTo: pointer.seq)
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("cluster event feed: \(ClusterError.describe(error)); connecting again")
            }
            listening.withLockedValue { $0 = false }
            attempt += 1
            try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
        }
        listening.withLockedValue { $0 = false }
    }

    private func catchUp() async throws {
        for key in state.withLockedValue({ Array($0.last.keys) }) { try await read(key, upTo: .max) }
    }

    private func read(_ key: RoomEventCursor.Key, upTo seq: Int64) async throws {
        guard let after = state.withLockedValue({ $0.wants(key, seq: seq) }) else { return }
        let rows = try await store.roomEvents(app: key.app, room: key.room, after: after)
        let fresh = state.withLockedValue { $0.take(key, rows) }
        for event in fresh where event.origin != store.node { continuation.yield(event) }
    }
}
