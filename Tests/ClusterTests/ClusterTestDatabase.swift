import Cluster
import Foundation
import Logging
import TestSupport
import XCTest

/// What every cluster test class shares: its own PostgreSQL (started on first use, stopped in its class's
/// tearDown), skipped where none is installed unless RTCBOX_REQUIRE_POSTGRES=1, and quiet stores on it.
enum ClusterTestDatabase {
    static func start(into slot: inout PostgresTestServer?) throws -> PostgresTestServer {
        if let server = slot { return server }
        guard PostgresTestServer.binaries != nil || ProcessInfo.processInfo.environment["RTCBOX_REQUIRE_POSTGRES"] == "1" else {
            throw XCTSkip("no PostgreSQL installed (scripts/install-deps installs it)")
        }
        let server = try PostgresTestServer()
        slot = server
        return server
    }

    /// A store for a node named `name` plus a random suffix; its log holds errors only (the pool's reconnect
    /// attempts while a test stops the database are info).
    static func store(_ name: String, on server: PostgresTestServer) throws -> ClusterStore {
        ClusterStore(url: try ClusterDatabaseURL(parsing: server.url), node: "\(name)-\(UUID().uuidString.prefix(6))",
                     logger: quietLogger(name))
    }

    static func quietLogger(_ name: String) -> Logger {
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .error
        return logger
    }
}
