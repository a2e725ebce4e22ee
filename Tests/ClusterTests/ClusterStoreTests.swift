import Cluster
import Foundation
import Logging
import TestSupport
import XCTest

final class ClusterDatabaseURLTests: XCTestCase {
    func testTCPAndSocketURLs() throws {
        let tcp = try ClusterDatabaseURL(parsing: "postgres://rtc:secret@db.example:6543/rooms")
        XCTAssertEqual(tcp, ClusterDatabaseURL(endpoint: .tcp(host: "db.example", port: 6543), user: "rtc", password: "secret", database: "rooms"))
        XCTAssertEqual(tcp.description, "postgres://rtc@db.example:6543/rooms", "the password stays out of logs")
        XCTAssertEqual(try ClusterDatabaseURL(parsing: "postgresql://rtc@127.0.0.1/rooms").endpoint, .tcp(host: "127.0.0.1", port: 5432))
        XCTAssertEqual(try ClusterDatabaseURL(parsing: "postgres://rtc@localhost:5433/rooms?host=/run/postgresql").endpoint,
                       .unixSocket(path: "/run/postgresql/.s.PGSQL.5433"))
    }

    func testBadURLsSayWhatIsMissing() {
        for (text, words) in [("mysql://u@h/db", "is not a postgres://"), ("postgres://h:5432/db", "names no user"),
                              ("postgres://u@h:5432/", "names no database"), ("postgres://u@h:99999/db", "out of range"),
                              ("not a url", "is not a postgres://")] {
            XCTAssertThrowsError(try ClusterDatabaseURL(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(words), "\(text): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}

/// The cluster's shared state on a real PostgreSQL (started by the test, stopped after).
final class ClusterStoreTests: XCTestCase {
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

    func stores(_ names: [String], on server: PostgresTestServer) throws -> [ClusterStore] {
        let url = try ClusterDatabaseURL(parsing: server.url)
        return names.map { name in
            var logger = Logger(label: "test.\(name)")
            logger.logLevel = .error   // the pool's reconnect attempts while the database is away are info
            return ClusterStore(url: url, node: "\(name)-\(UUID().uuidString.prefix(6))", logger: logger)
        }
    }

    func testConcurrentClaimsOfOneStreamIDHaveExactlyOneWinner() async throws {
        let server = try database()
        let nodes = try stores(["a", "b", "c"], on: server)
        // Three nodes starting together migrate at once: the advisory lock serializes them.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.migrate() } }
            try await group.waitForAll()
        }
        for node in nodes { try await node.register(advertise: "127.0.0.1:7700", leaseSeconds: 30) }
        for round in 0..<20 {
            let stream = "cam-\(round)-\(UUID().uuidString.prefix(4))"
            let outcomes = try await withThrowingTaskGroup(of: (String, ClusterStore.StreamClaim).self) { group in
                for node in nodes {
                    group.addTask { (node.node, try await node.claimStream(app: 1, stream: stream, room: "r1", user: "u-\(node.node)")) }
                }
                var all: [(String, ClusterStore.StreamClaim)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let winners = outcomes.filter { $0.1 == .claimed }.map(\.0)
            XCTAssertEqual(winners.count, 1, "round \(round): \(outcomes)")
            for (_, outcome) in outcomes where outcome != .claimed {
                guard case .held(let record) = outcome else { return XCTFail("\(outcome)") }
                XCTAssertEqual(record.node, winners.first, "the losers are told who holds it")
                XCTAssertEqual(record.user, "u-\(winners.first ?? "")")
            }
        }
        // Another app's stream of the same id is its own.
        let v1 = try await nodes[0].claimStream(app: 2, stream: "cam-0", room: "r1", user: "x")
        XCTAssertEqual(v1, .claimed)
        for node in nodes { await node.close() }
    }

    func testOnlyTheOwnerReleasesAStreamOrASession() async throws {
        let server = try database()
        let nodes = try stores(["a", "b"], on: server)
        for node in nodes { try await node.migrate(); try await node.register(advertise: "127.0.0.1:1", leaseSeconds: 30) }
        let (a, b) = (nodes[0], nodes[1])
        let v2 = try await a.claimStream(app: 1, stream: "owned", room: "r2", user: "u1")
        XCTAssertEqual(v2, .claimed)
        let v3 = try await b.releaseStream(app: 1, stream: "owned")
        XCTAssertFalse(v3, "b never removes a's claim")
        let v4 = try await b.streams(app: 1, room: "r2").map(\.node)
        XCTAssertEqual(v4, [a.node])
        let v5 = try await a.releaseStream(app: 1, stream: "owned")
        XCTAssertTrue(v5)
        let v6 = try await b.claimStream(app: 1, stream: "owned", room: "r2", user: "u2")
        XCTAssertEqual(v6, .claimed, "free again")

        // A second login of a user id on another node takes it over and learns which session it replaces.
        let v7 = try await a.takeSession(app: 1, user: "alice", room: "r2", session: "s1")
        XCTAssertNil(v7)
        let v8 = try await b.takeSession(app: 1, user: "alice", room: "r2", session: "s2")
        XCTAssertEqual(v8,
                       ClusterStore.SessionRecord(room: "r2", session: "s1", node: a.node))
        let v9 = try await a.releaseSession(app: 1, user: "alice", session: "s1")
        XCTAssertFalse(v9, "the kicked session removes nothing")
        let v10 = try await a.takeSession(app: 1, user: "alice", room: "r3", session: "s3")
        XCTAssertEqual(v10,
                       ClusterStore.SessionRecord(room: "r2", session: "s2", node: b.node), "s2 still held it")
        let v11 = try await a.releaseSession(app: 1, user: "alice", session: "s3")
        XCTAssertTrue(v11)
        for node in nodes { await node.close() }
    }

    /// Concurrent logins of one user id on three nodes: each one replaces exactly the one before it, so
    /// every session but the last is kicked exactly once and none is lost.
    func testConcurrentLoginsOfOneUserFormOneChain() async throws {
        let server = try database()
        let nodes = try stores(["a", "b", "c"], on: server)
        for node in nodes { try await node.migrate(); try await node.register(advertise: "127.0.0.1:1", leaseSeconds: 30) }
        let user = "bob-\(UUID().uuidString.prefix(4))"
        let results = try await withThrowingTaskGroup(of: (String, ClusterStore.SessionRecord?).self) { group in
            for (i, node) in nodes.enumerated() {
                for k in 0..<5 {
                    group.addTask { ("s\(i)-\(k)", try await node.takeSession(app: 1, user: user, room: "r", session: "s\(i)-\(k)")) }
                }
            }
            var all: [(String, ClusterStore.SessionRecord?)] = []
            for try await r in group { all.append(r) }
            return all
        }
        XCTAssertEqual(results.filter { $0.1 == nil }.count, 1, "exactly one login found the user id free: \(results)")
        let replaced = results.compactMap { $0.1?.session }
        XCTAssertEqual(Set(replaced).count, replaced.count, "no session is kicked twice: \(replaced)")
        let sessions = Set(results.map(\.0))
        let last = sessions.subtracting(replaced)
        XCTAssertEqual(last.count, 1, "one session holds the user id at the end")
        let v12 = try await nodes[0].releaseSession(app: 1, user: user, session: last.first ?? "")
        XCTAssertTrue(v12)
        for node in nodes { await node.close() }
    }

    /// A node that stops renewing its lease is swept with its streams and sessions; it learns it lost the lease,
    /// and claims nothing until it registers again.
    func testAnExpiredLeaseTakesTheNodesStreamsAndSessionsWithIt() async throws {
        let server = try database()
        let nodes = try stores(["live", "dying"], on: server)
        for node in nodes { try await node.migrate() }
        let (live, dying) = (nodes[0], nodes[1])
        try await live.register(advertise: "127.0.0.1:7700", leaseSeconds: 30)
        try await dying.register(advertise: "127.0.0.1:7701", leaseSeconds: 1)
        let v13 = try await dying.claimStream(app: 1, stream: "doomed", room: "r4", user: "d")
        XCTAssertEqual(v13, .claimed)
        let v14 = try await dying.takeSession(app: 1, user: "d", room: "r4", session: "sd")
        XCTAssertNil(v14)
        let v15 = try await live.sweepExpiredNodes()
        XCTAssertEqual(v15, [], "not expired yet")
        let listed = try await live.nodes().filter { [live.node, dying.node].contains($0.node) }
        XCTAssertEqual(listed.map(\.node).sorted(), [live.node, dying.node].sorted())
        XCTAssertEqual(listed.first { $0.node == dying.node }?.advertise, "127.0.0.1:7701")
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let v16 = try await live.sweepExpiredNodes()
        XCTAssertEqual(v16, [dying.node])
        let v17 = try await live.streams(app: 1, room: "r4")
        XCTAssertEqual(v17, [], "the dead node's stream went with its lease")
        let v18 = try await live.takeSession(app: 1, user: "d", room: "r4", session: "s-live")
        XCTAssertNil(v18, "and its session")
        let v19 = try await dying.renewLease(seconds: 30)
        XCTAssertFalse(v19, "the swept node learns it lost its lease")
        do {
            _ = try await dying.claimStream(app: 1, stream: "again", room: "r4", user: "d")
            XCTFail("a node without a lease claims nothing")
        } catch {
            XCTAssertEqual(error, .leaseLost(node: dying.node))
        }
        try await dying.register(advertise: "127.0.0.1:7701", leaseSeconds: 30)
        let v20 = try await dying.claimStream(app: 1, stream: "again", room: "r4", user: "d")
        XCTAssertEqual(v20, .claimed, "registered again")
        for node in nodes { await node.close() }
    }

    /// The database stopped: calls fail with a retryable error in seconds (never hang); back, they work again.
    func testADatabaseThatGoesAwayFailsFastAndComesBack() async throws {
        let server = try database()
        let node = try stores(["n"], on: server)[0]
        try await node.migrate()
        try await node.register(advertise: "127.0.0.1:1", leaseSeconds: 60)
        server.halt()
        let started = Date()
        do {
            _ = try await node.claimStream(app: 1, stream: "while-down", room: "r5", user: "u")
            XCTFail("claimed without a database")
        } catch {
            guard case .unavailable(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("claim stream while-down"), why)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        try server.start()
        var claimed: ClusterStore.StreamClaim?
        for _ in 0..<20 where claimed == nil {
            claimed = try? await node.claimStream(app: 1, stream: "while-down", room: "r5", user: "u")
            if claimed == nil { try await Task.sleep(nanoseconds: 250_000_000) }
        }
        XCTAssertEqual(claimed, .claimed)
        await node.close()
    }
}
