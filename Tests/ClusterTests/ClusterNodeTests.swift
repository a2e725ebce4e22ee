import Cluster
import Foundation
import Logging
import TestSupport
import XCTest

/// Leases and sweeps running as a node runs them, on the real PostgreSQL, with short timings.
final class ClusterNodeTests: XCTestCase {
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

    let fast = ClusterNode.Timing(leaseSeconds: 2, renewEvery: .milliseconds(400), sweepEvery: .milliseconds(300))

    func node(_ name: String, _ server: PostgresTestServer) throws -> ClusterNode {
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .error
        let store = ClusterStore(url: try ClusterDatabaseURL(parsing: server.url), node: "\(name)-\(UUID().uuidString.prefix(6))", logger: logger)
        return ClusterNode(store: store, advertise: "127.0.0.1:7700", timing: fast, logger: logger)
    }

    /// The first change matching `predicate` within `seconds`, and when it came.
    func wait(for node: ClusterNode, seconds: Double, _ predicate: @escaping @Sendable (ClusterNode.Change) -> Bool) async -> (ClusterNode.Change, Double)? {
        let started = Date()
        return await withTaskGroup(of: (ClusterNode.Change, Double)?.self) { group in
            group.addTask {
                for await change in node.changes where predicate(change) { return (change, Date().timeIntervalSince(started)) }
                return nil
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    func testANodeThatStopsRenewingIsNoticedWithinItsLeaseAndSweepAndItsStreamsGo() async throws {
        let server = try database()
        let (live, doomed) = (try node("live", server), try node("doomed", server))
        try await live.start()
        try await doomed.start()
        let claim = try await doomed.store.claimStream(app: 1, stream: "doomed-cam", room: "rd", user: "u")
        XCTAssertEqual(claim, .claimed)
        // As after kill -9: no more renewals, no goodbye.
        await doomed.stop(deregister: false)
        let seen = await wait(for: live, seconds: 8) { if case .nodesDied = $0 { return true }; return false }
        let (change, after) = try XCTUnwrap(seen, "the live node never noticed")
        XCTAssertEqual(change, .nodesDied([doomed.store.node]))
        XCTAssertLessThan(after, 2 + 0.3 + 1.5, "lease + sweep interval, with slack")
        let streams = try await live.store.streams(app: 1, room: "rd")
        XCTAssertEqual(streams, [])
        await live.stop(deregister: true)
        let left = try await doomed.store.nodes().map(\.node)
        XCTAssertFalse(left.contains(live.store.node), "a clean stop leaves at once")
        for n in [live, doomed] { await n.store.close() }
    }

    func testALostLeaseIsTakenAgainAndADatabaseOutageIsReported() async throws {
        let server = try database()
        let n = try node("n", server)
        try await n.start()
        // Its row is gone (as when a sweep took it for dead while it was stalled): it registers again.
        _ = try server.psql("DELETE FROM rtcbox_nodes WHERE node_id = '\(n.store.node)'")
        let again = await wait(for: n, seconds: 5) { $0 == .registered(again: true) }
        XCTAssertNotNil(again, "the node registered again")
        server.halt()
        let down = await wait(for: n, seconds: 10) { if case .databaseUnavailable = $0 { return true }; return false }
        XCTAssertNotNil(down, "the outage is reported")
        try server.start()
        let back = await wait(for: n, seconds: 15) { $0 == .databaseBack }
        XCTAssertNotNil(back, "and the way back")
        await n.stop(deregister: true)
        await n.store.close()
    }
}
