import Logging
import NIOCore
import PostgresNIO

/// A node's view of the cluster's shared state in PostgreSQL: the nodes and their leases, who holds each
/// stream id and each user id of an app. Every rule that must hold across nodes is one statement or one
/// transaction here, decided by the database (never read-then-write in Swift), and every time comparison uses
/// the database's clock (`now()`), so nodes' clocks do not matter.
///
/// - A node registers with a lease (`lease_until`) and renews it; `sweepExpiredNodes` deletes nodes whose lease
///   ran out, and with them (ON DELETE CASCADE) their streams and sessions: a dead node's rows go with its lease.
/// - A stream id is claimed with `INSERT ... ON CONFLICT DO NOTHING`: of concurrent claims exactly one inserts.
/// - A user id is taken over under a transaction-scoped advisory lock on (app, user): the new session learns
///   which session (on which node) it replaces.
/// - A node deletes only rows it owns (its node id, its session id): state another node took is never removed.
public final class ClusterStore: Sendable {
    public let node: String
    public let url: ClusterDatabaseURL
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects lazily (the pool opens connections as queries need them); nothing is checked until the first
    /// call. `close()` ends the pool.
    public init(url: ClusterDatabaseURL, node: String, logger: Logger) {
        var configuration: PostgresClient.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: url.user, password: url.password, database: url.database, tls: .disable)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 8
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.node = node
        self.url = url
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// A dedicated connection's configuration (the event feed's LISTEN: the pool has none).
    func connectionConfiguration() -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: url.user, password: url.password, database: url.database, tls: .disable)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    // MARK: schema

    /// Creates the tables when they are missing. Nodes starting together serialize on an advisory lock (two
    /// concurrent CREATE TABLE IF NOT EXISTS can both try to create the type).
    public func migrate() async throws(ClusterError) {
        try await run("migrate") { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(7700001)", logger: logger)
                for statement in Self.schema {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
        }
    }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS rtcbox_nodes (
            node_id text PRIMARY KEY,
            advertise text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS rtcbox_streams (
            app_id bigint NOT NULL,
            stream_id text NOT NULL,
            room_id text NOT NULL,
            user_id text NOT NULL,
            node_id text NOT NULL REFERENCES rtcbox_nodes (node_id) ON DELETE CASCADE,
            claimed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (app_id, stream_id))
        """,
        "CREATE INDEX IF NOT EXISTS rtcbox_streams_room ON rtcbox_streams (app_id, room_id)",
        """
        CREATE TABLE IF NOT EXISTS rtcbox_sessions (
            app_id bigint NOT NULL,
            user_id text NOT NULL,
            room_id text NOT NULL,
            session_id text NOT NULL,
            node_id text NOT NULL REFERENCES rtcbox_nodes (node_id) ON DELETE CASCADE,
            since timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (app_id, user_id))
        """,
        "CREATE INDEX IF NOT EXISTS rtcbox_sessions_room ON rtcbox_sessions (app_id, room_id)",
        // Room events: seq is the room's own, 1, 2, 3, ... (ClusterEvents.swift).
        """
        CREATE TABLE IF NOT EXISTS rtcbox_room_events (
            app_id bigint NOT NULL,
            room_id text NOT NULL,
            seq bigint NOT NULL,
            origin_node text NOT NULL,
            payload text NOT NULL,
            at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (app_id, room_id, seq))
        """,
    ]

    // MARK: nodes and leases

    public struct NodeRecord: Sendable, Equatable {
        public var node: String
        public var advertise: String
        /// Seconds until its lease runs out (negative once it has: the next sweep removes it).
        public var leaseLeft: Double
    }

    /// Registers this node (again, after a lost lease) with a lease of `leaseSeconds`.
    public func register(advertise: String, leaseSeconds: Int) async throws(ClusterError) {
        let node = self.node
        try await run("register") { client, logger in
            try await client.query("""
                INSERT INTO rtcbox_nodes (node_id, advertise, lease_until)
                VALUES (\(node), \(advertise), now() + make_interval(secs => \(leaseSeconds)))
                ON CONFLICT (node_id) DO UPDATE SET advertise = EXCLUDED.advertise, lease_until = EXCLUDED.lease_until
                """, logger: logger)
        }
    }

    /// Renews this node's lease; `false` when the lease was already gone (the node was swept as dead: its
    /// streams and sessions are gone with it, and it must register again).
    public func renewLease(seconds: Int) async throws(ClusterError) -> Bool {
        let node = self.node
        return try await run("renew the lease") { client, logger in
            let rows = try await client.query("""
                UPDATE rtcbox_nodes SET lease_until = now() + make_interval(secs => \(seconds))
                WHERE node_id = \(node) RETURNING node_id
                """, logger: logger)
            return try await rows.collect().count == 1
        }
    }

    /// Deletes the nodes whose lease ran out, with their streams and sessions; returns their ids.
    public func sweepExpiredNodes() async throws(ClusterError) -> [String] {
        try await run("sweep expired nodes") { client, logger in
            let rows = try await client.query("DELETE FROM rtcbox_nodes WHERE lease_until < now() RETURNING node_id", logger: logger)
            var gone: [String] = []
            for try await node in rows.decode(String.self) { gone.append(node) }
            return gone.sorted()
        }
    }

    /// This node leaves: its row, and with it its streams and sessions.
    public func deregister() async throws(ClusterError) {
        let node = self.node
        try await run("deregister") { client, logger in
            try await client.query("DELETE FROM rtcbox_nodes WHERE node_id = \(node)", logger: logger)
        }
    }

    public func nodes() async throws(ClusterError) -> [NodeRecord] {
        try await run("list nodes") { client, logger in
            let rows = try await client.query("""
                SELECT node_id, advertise, extract(epoch FROM lease_until - now())::float8 FROM rtcbox_nodes ORDER BY node_id
                """, logger: logger)
            var out: [NodeRecord] = []
            for try await (node, advertise, left) in rows.decode((String, String, Double).self) {
                out.append(NodeRecord(node: node, advertise: advertise, leaseLeft: left))
            }
            return out
        }
    }

    // MARK: streams

    public struct StreamRecord: Sendable, Equatable {
        public var app: UInt32
        public var stream: String
        public var room: String
        public var user: String
        public var node: String

        public init(app: UInt32, stream: String, room: String, user: String, node: String) {
            self.app = app; self.stream = stream; self.room = room; self.user = user; self.node = node
        }
    }

    public enum StreamClaim: Sendable, Equatable {
        /// This node holds the stream id now.
        case claimed
        /// Someone holds it: a second publisher is refused (`duplicate_stream`).
        case held(StreamRecord)
    }

    /// Claims a stream id of an app for a publish on this node: exactly one of any number of concurrent claims
    /// wins. Throws `leaseLost` when this node is no longer registered.
    public func claimStream(app: UInt32, stream: String, room: String, user: String) async throws(ClusterError) -> StreamClaim {
        let node = self.node
        for _ in 0..<3 {
            let outcome: StreamClaim? = try await run("claim stream \(stream)") { client, logger in
                let inserted = try await client.query("""
                    INSERT INTO rtcbox_streams (app_id, stream_id, room_id, user_id, node_id)
                    VALUES (\(Int64(app)), \(stream), \(room), \(user), \(node))
                    ON CONFLICT (app_id, stream_id) DO NOTHING RETURNING node_id
                    """, logger: logger)
                if try await inserted.collect().count == 1 { return .claimed }
                let held = try await client.query("""
                    SELECT room_id, user_id, node_id FROM rtcbox_streams WHERE app_id = \(Int64(app)) AND stream_id = \(stream)
                    """, logger: logger)
                for try await (room, user, holder) in held.decode((String, String, String).self) {
                    return .held(StreamRecord(app: app, stream: stream, room: room, user: user, node: holder))
                }
                return nil   // released between the two statements: claim again
            }
            if let outcome { return outcome }
        }
        throw .unavailable("the claim of stream \(stream) kept racing with its release")
    }

    /// Releases a stream id this node holds; `false` when it held none (another node's claim is never touched).
    @discardableResult
    public func releaseStream(app: UInt32, stream: String) async throws(ClusterError) -> Bool {
        let node = self.node
        return try await run("release stream \(stream)") { client, logger in
            let rows = try await client.query("""
                DELETE FROM rtcbox_streams WHERE app_id = \(Int64(app)) AND stream_id = \(stream) AND node_id = \(node)
                RETURNING stream_id
                """, logger: logger)
            return try await rows.collect().count == 1
        }
    }

    /// The streams live in a room on every node.
    public func streams(app: UInt32, room: String) async throws(ClusterError) -> [StreamRecord] {
        try await run("list streams") { client, logger in
            let rows = try await client.query("""
                SELECT stream_id, user_id, node_id FROM rtcbox_streams WHERE app_id = \(Int64(app)) AND room_id = \(room)
                ORDER BY claimed_at, stream_id
                """, logger: logger)
            var out: [StreamRecord] = []
            for try await (stream, user, node) in rows.decode((String, String, String).self) {
                out.append(StreamRecord(app: app, stream: stream, room: room, user: user, node: node))
            }
            return out
        }
    }

    // MARK: sessions (one login per user id and app)

    public struct SessionRecord: Sendable, Equatable {
        public var room: String
        public var session: String
        public var node: String

        public init(room: String, session: String, node: String) {
            self.room = room; self.session = session; self.node = node
        }
    }

    /// Makes `session` on this node the login of (app, user) and returns the one it replaces, if any: that one
    /// is kicked out (`kicked_out`) wherever it is. Concurrent logins of one user id serialize on an advisory
    /// lock, so each sees the one before it.
    public func takeSession(app: UInt32, user: String, room: String, session: String) async throws(ClusterError) -> SessionRecord? {
        let node = self.node
        return try await run("take session of \(user)") { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(Self.lockKey(app: app, user: user)), 0))",
                                           logger: logger)
                let previous = try await connection.query("""
                    SELECT room_id, session_id, node_id FROM rtcbox_sessions WHERE app_id = \(Int64(app)) AND user_id = \(user)
                    """, logger: logger)
                var replaced: SessionRecord?
                for try await (room, session, node) in previous.decode((String, String, String).self) {
                    replaced = SessionRecord(room: room, session: session, node: node)
                }
                try await connection.query("""
                    INSERT INTO rtcbox_sessions (app_id, user_id, room_id, session_id, node_id)
                    VALUES (\(Int64(app)), \(user), \(room), \(session), \(node))
                    ON CONFLICT (app_id, user_id) DO UPDATE
                    SET room_id = EXCLUDED.room_id, session_id = EXCLUDED.session_id, node_id = EXCLUDED.node_id, since = now()
                    """, logger: logger)
                return replaced
            }
        }
    }

    /// Ends a login: only when `session` still holds the user id (a newer login elsewhere is never removed).
    @discardableResult
    public func releaseSession(app: UInt32, user: String, session: String) async throws(ClusterError) -> Bool {
        try await run("release session of \(user)") { client, logger in
            let rows = try await client.query("""
                DELETE FROM rtcbox_sessions WHERE app_id = \(Int64(app)) AND user_id = \(user) AND session_id = \(session)
                RETURNING user_id
                """, logger: logger)
            return try await rows.collect().count == 1
        }
    }

    static func lockKey(app: UInt32, user: String) -> String { "rtcbox-user/\(app)/\(user)" }

    // MARK: errors

    /// How long one call may take before it fails as `unavailable` (the pool otherwise waits for a connection
    /// as long as the database is away).
    public static let callTimeout: Duration = .seconds(5)

    /// Runs one piece of work on the pool, at most `callTimeout`; PostgreSQL's errors become `ClusterError`s that
    /// say what failed.
    func run<T: Sendable>(_ what: String, _ work: @escaping @Sendable (PostgresClient, Logger) async throws -> T) async throws(ClusterError) -> T {
        let client = self.client, logger = self.logger
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await work(client, logger) }
                group.addTask {
                    try await Task.sleep(for: Self.callTimeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw ClusterError.unavailable("\(what): no answer in \(Self.callTimeout)")
                }
                return value
            }
        } catch let error as PSQLError {
            // 23503: a foreign key violation: this node's row is gone (its lease lapsed and a sweep removed it).
            if error.serverInfo?[.sqlState] == "23503" { throw .leaseLost(node: node) }
            throw .unavailable("\(what): \(ClusterError.describe(error))")
        } catch let error as ClusterError {
            throw error
        } catch {
            throw .unavailable("\(what): \(error)")
        }
    }
}

extension ClusterError {
    /// One line for an error of PostgresNIO (whose description hides everything) or any other.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
