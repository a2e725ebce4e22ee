import Foundation
import RoomAuth
import RoomProtocol
import TOMLKit

/// The settings a TOML file gives `rtcbox serve`. Every field is optional: the command line and the
/// environment win over it, and defaults fill the rest.
///
///     listen = "0.0.0.0:7700"
///     threads = 2
///     realtime_priority = 10          # SCHED_FIFO for the event loops (needs CAP_SYS_NICE or RLIMIT_RTPRIO)
///     metrics = "127.0.0.1:9700"
///     web = "127.0.0.1:7780"           # the room page and its WebSocket
///     web_origins = ["https://app.example"]
///     udp = "0.0.0.0:7790"             # the UDP media port (WebRTC's wire: ICE-lite, DTLS-SRTP)
///     udp_advertise = "203.0.113.5"   # the IP clients send media to (needed with 0.0.0.0 or ::)
///     tls_cert = "cert.pem"            # https/wss for the web listener
///     tls_key = "key.pem"
///     log_level = "info"
///     max_frame_length = 4194304
///     slow_consumer_timeout = 10      # seconds
///     gop_cache_bytes = 8388608
///     token_warning = 30              # seconds before expiry
///
///     [[apps]]
///     app_id = 1234
///     app_sign = "64 hex characters"
///     server_secret = "32 characters"
///     anonymous = false
///     max_users_per_room = 50
///     max_streams_per_room = 10
///     messages_per_second = 10
///     scenario = "call"               # the scenario publishers of its rooms default to (login's `scenario`)
///     room_scenarios = { town-hall = "broadcast", lounge = "chatroom" }
public struct ServerConfigFile: Sendable, Equatable {
    public var listen: String?
    public var threads: Int?
    public var realtimePriority: Int?
    public var metrics: String?
    public var web: String?
    public var webOrigins: [String]?
    public var udp: String?
    public var udpAdvertise: String?
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var logLevel: String?
    public var maximumFrameLength: Int?
    public var slowConsumerTimeoutSeconds: Double?
    public var gopCacheLimitBytes: Int?
    public var tokenWarningSeconds: Double?
    public var apps: [AppConfiguration]?

    public init() {}

    static let topKeys: Set<String> = ["listen", "threads", "realtime_priority", "metrics", "web", "web_origins", "udp", "udp_advertise", "tls_cert", "tls_key", "log_level", "max_frame_length",
                                       "slow_consumer_timeout", "gop_cache_bytes", "token_warning", "apps"]
    static let appKeys: Set<String> = ["app_id", "app_sign", "server_secret", "anonymous", "max_users_per_room",
                                       "max_streams_per_room", "messages_per_second", "scenario", "room_scenarios"]

    /// Reads and checks a config file. Errors name the file and the key (or line) at fault.
    public static func load(path: String) throws -> ServerConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: nil, problem: "cannot be read (\((error as NSError).localizedDescription))")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ServerConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: "\(file):\(error.source.begin.line):\(error.source.begin.column)", key: nil,
                              problem: error.description)
        }
        let reader = KeyReader(file: file, table: table, prefix: "")
        try reader.rejectUnknown(topKeys)
        var config = ServerConfigFile()
        config.listen = try reader.string("listen")
        config.threads = try reader.int("threads", in: 0...256)
        config.realtimePriority = try reader.int("realtime_priority", in: ServerConfiguration.realtimePriorities)
        config.metrics = try reader.string("metrics")
        config.web = try reader.string("web")
        config.webOrigins = try reader.strings("web_origins")
        config.udp = try reader.string("udp")
        config.udpAdvertise = try reader.string("udp_advertise")
        config.tlsCertificate = try reader.string("tls_cert")
        config.tlsKey = try reader.string("tls_key")
        config.logLevel = try reader.string("log_level")
        if let level = config.logLevel, !Self.logLevels.contains(level) {
            throw ConfigError(file: file, key: "log_level", problem: "must be one of \(Self.logLevels.joined(separator: ", "))")
        }
        config.maximumFrameLength = try reader.int("max_frame_length", in: 1024...(64 << 20))
        config.slowConsumerTimeoutSeconds = try reader.double("slow_consumer_timeout", in: 0.1...3600)
        config.gopCacheLimitBytes = try reader.int("gop_cache_bytes", in: 0...(1 << 30))
        config.tokenWarningSeconds = try reader.double("token_warning", in: 0...86400)
        if let value = table["apps"] {
            guard let array = value.array else { throw ConfigError(file: file, key: "apps", problem: "must be an array of tables ([[apps]])") }
            var apps: [AppConfiguration] = []
            for (index, element) in array.enumerated() {
                let key = "apps[\(index)]"
                guard let appTable = element.table else { throw ConfigError(file: file, key: key, problem: "must be a table") }
                let app = try parseApp(KeyReader(file: file, table: appTable, prefix: key + "."))
                if apps.contains(where: { $0.appID == app.appID }) {
                    throw ConfigError(file: file, key: key + ".app_id", problem: "app \(app.appID) is defined twice")
                }
                apps.append(app)
            }
            if apps.isEmpty { throw ConfigError(file: file, key: "apps", problem: "lists no app") }
            config.apps = apps
        }
        return config
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    private static func parseApp(_ reader: KeyReader) throws -> AppConfiguration {
        try reader.rejectUnknown(appKeys)
        guard let id = try reader.int("app_id", in: 0...Int(UInt32.max)) else {
            throw reader.error("app_id", "is missing")
        }
        var app = AppConfiguration(appID: UInt32(id))
        if let hex = try reader.string("app_sign") {
            do { app.appSign = try AppSign(hex: hex) } catch { throw reader.error("app_sign", "must be 64 hex characters") }
        }
        if let secret = try reader.string("server_secret") {
            guard secret.utf8.count == 32 else { throw reader.error("server_secret", "must be 32 characters, not \(secret.utf8.count)") }
            app.serverSecret = secret
        }
        app.allowsAnonymous = try reader.bool("anonymous") ?? false
        if app.appSign == nil && app.serverSecret == nil && !app.allowsAnonymous {
            throw reader.error("", "needs app_sign, server_secret or anonymous = true")
        }
        app.maxUsersPerRoom = try reader.int("max_users_per_room", in: 1...1_000_000) ?? app.maxUsersPerRoom
        app.maxStreamsPerRoom = try reader.int("max_streams_per_room", in: 1...100_000) ?? app.maxStreamsPerRoom
        app.messagesPerSecond = try reader.double("messages_per_second", in: 0.01...10_000) ?? app.messagesPerSecond
        app.scenario = try reader.string("scenario").map { try reader.scenario($0, "scenario") }
        if let value = reader.table["room_scenarios"] {
            guard let rooms = value.table else { throw reader.error("room_scenarios", "must be a table of room = \"scenario\"") }
            for room in rooms.keys.sorted() {
                guard let name = rooms[room]?.string else { throw reader.error("room_scenarios.\(room)", "must be a string") }
                app.roomScenarios[room] = try reader.scenario(name, "room_scenarios.\(room)")
            }
        }
        return app
    }

    /// Typed access to one table's keys, with errors that name the key.
    private struct KeyReader {
        let file: String
        let table: TOMLTable
        let prefix: String

        func error(_ key: String, _ problem: String) -> ConfigError {
            let full = key.isEmpty ? String(prefix.dropLast()) : prefix + key
            return ConfigError(file: file, key: full, problem: problem)
        }

        func rejectUnknown(_ known: Set<String>) throws {
            for key in table.keys.sorted() where !known.contains(key) {
                throw error(key, "is not a known key")
            }
        }

        func string(_ key: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else { throw error(key, "must be a string") }
            return s
        }

        func strings(_ key: String) throws -> [String]? {
            guard let value = table[key] else { return nil }
            guard let array = value.array else { throw error(key, "must be an array of strings") }
            return try array.map { element in
                guard let s = element.string else { throw error(key, "must be an array of strings") }
                return s
            }
        }

        func scenario(_ name: String, _ key: String) throws -> Scenario {
            guard let scenario = Scenario(rawValue: name) else {
                throw error(key, "must be one of \(Scenario.names), not \"\(name)\"")
            }
            return scenario
        }

        func bool(_ key: String) throws -> Bool? {
            guard let value = table[key] else { return nil }
            guard let b = value.bool else { throw error(key, "must be true or false") }
            return b
        }

        func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let value = table[key] else { return nil }
            guard let i = value.int else { throw error(key, "must be an integer") }
            guard range.contains(i) else { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(i)") }
            return i
        }

        func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
            guard let value = table[key] else { return nil }
            guard let d = value.double ?? value.int.map(Double.init) else { throw error(key, "must be a number") }
            guard range.contains(d) else { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(d)") }
            return d
        }
    }
}

/// A configuration problem: the file, the key, what is wrong with it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var key: String?
    public var problem: String

    public init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String {
        if let key { return "\(file): \(key) \(problem)" }
        return "\(file): \(problem)"
    }
}
