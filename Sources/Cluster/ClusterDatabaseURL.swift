import Foundation

/// Where the cluster's PostgreSQL is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, or a Unix socket with
/// `postgres://USER@/DATABASE?host=/run/postgresql` (libpq's spelling; the socket is `.s.PGSQL.PORT` in that
/// directory). `serve --cluster`, file key `cluster`, env `RTCBOX_CLUSTER`.
public struct ClusterDatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself (directory + `.s.PGSQL.PORT`).
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses the URL; the error says what is wrong with it in one line.
    public init(parsing text: String) throws(ClusterError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              ["postgres", "postgresql"].contains(scheme) else {
            throw .badURL("\"\(text)\" is not a postgres://USER@HOST:PORT/DATABASE URL")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .badURL("\"\(text)\" names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw .badURL("\"\(text)\" names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw .badURL("\"\(text)\": port \(port) is out of range") }
        let socketDirectory = components.queryItems?.first { $0.name == "host" }?.value
        if let socketDirectory, socketDirectory.hasPrefix("/") {
            endpoint = .unixSocket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
        } else if let host = components.host, !host.isEmpty {
            endpoint = .tcp(host: host, port: port)
        } else {
            throw .badURL("\"\(text)\" names no host (postgres://USER@HOST:PORT/DATABASE, or ?host=/socket/directory)")
        }
        self.user = user
        self.password = components.password
        self.database = database
    }

    /// The URL without its password (for logs and status).
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .unixSocket(let path): return "postgres://\(user)@/\(database) (socket \(path))"
        }
    }
}

public enum ClusterError: Error, Equatable, CustomStringConvertible {
    case badURL(String)
    /// The database did not answer or refused: retryable (a node without its database refuses what it cannot check).
    case unavailable(String)
    /// This node's lease is gone (it was taken for dead): it must register again before it claims anything.
    case leaseLost(node: String)

    public var description: String {
        switch self {
        case .badURL(let why): return why
        case .unavailable(let why): return "the cluster database is unavailable: \(why)"
        case .leaseLost(let node): return "node \(node) lost its lease (the cluster took it for dead)"
        }
    }
}
