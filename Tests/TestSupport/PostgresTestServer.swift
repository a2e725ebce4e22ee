import Foundation

/// A private PostgreSQL for tests: Debian's initdb and postgres (postgresql 15) make a cluster in a temporary
/// directory, listening on 127.0.0.1 on a free port (and a socket in that directory), trust authentication,
/// fsync off; the server is a child of the test process. As root (CI) initdb and the server run as the
/// `postgres` user, which they require. `stop()` (and deinit) stops it and removes the directory: nothing is
/// left running.
public final class PostgresTestServer: @unchecked Sendable {
    public enum Unavailable: Error, CustomStringConvertible {
        case noPostgres
        case failed(String)
        public var description: String {
            switch self {
            case .noPostgres: return "no PostgreSQL here (Debian's postgresql: /usr/lib/postgresql/*/bin/initdb)"
            case .failed(let why): return why
            }
        }
    }

    public let directory: String
    public let port: Int
    public let user = "rtcbox"
    public let database = "postgres"
    private let bin: String
    private let runAs: [String]
    private var server: Process?

    /// `postgres://rtcbox@127.0.0.1:PORT/postgres`
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// The binaries of the newest PostgreSQL installed, or nil.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted()
        guard let newest = versions.last else { return nil }
        let bin = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: bin + "/initdb") ? bin : nil
    }

    public init() throws {
        guard let bin = Self.binaries else { throw Unavailable.noPostgres }
        self.bin = bin
        // initdb and postgres refuse root: as root they run as postgres (setpriv execs, no process in between).
        runAs = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rtcbox-pg-\(UUID().uuidString.prefix(8))").path
        directory = base
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try Self.run(["/bin/chown", "postgres:postgres", base]) }
        port = try Self.freePort()
        let initdb = try Self.run(runAs + ["\(bin)/initdb", "-D", "\(base)/data", "-U", user, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
        guard initdb.status == 0 else { throw Unavailable.failed("initdb: \(initdb.output.suffix(600))") }
        try start()
    }

    deinit { stop() }

    /// Starts (again) on the same port and data: a database that comes back. The server is this process's
    /// child (`postgres` itself, exec'd by setpriv as the postgres user), so nothing outlives the test.
    public func start() throws {
        guard server == nil else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runAs.first ?? "\(bin)/postgres")
        process.arguments = Array(runAs.dropFirst()) + (runAs.isEmpty ? [] : ["\(bin)/postgres"]) + [
            "-D", "\(directory)/data", "-c", "listen_addresses=127.0.0.1", "-p", "\(port)", "-k", directory,
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        _ = FileManager.default.createFile(atPath: "\(directory)/log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/log"))
        _ = try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        server = process
        // Ready when it takes a TCP connection.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.accepts(port: port) { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? ""
        halt()
        throw Unavailable.failed("postgres did not start: \(text.suffix(600))")
    }

    /// Stops the server (SIGINT: PostgreSQL's fast shutdown, sessions ended); the data stays for `start()`.
    public func halt() {
        guard let process = server else { return }
        server = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Stops the server and removes its directory.
    public func stop() {
        halt()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs SQL with psql (as the test's superuser); its output, or an error with psql's message.
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        let r = try Self.run(["\(bin)/psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database,
                              "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard r.status == 0 else { throw Unavailable.failed("psql: \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a program to its end: its status and output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable.failed("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable.failed("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
