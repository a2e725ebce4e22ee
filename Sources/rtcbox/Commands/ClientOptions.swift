import ArgumentParser
import FFmpegKit
import Foundation
import Logging
import RoomAuth
import RoomClient
import RoomProtocol

/// Where the server is and who logs in: shared by every client command.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Room server HOST:PORT, or several, comma-separated: a login tries them in order until one answers, a reconnect the one it had and then the others in turn (env RTCBOX_SERVER).", valueName: "host:port[,...]"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Application id (env RTCBOX_APP_ID). The embedded server's dev app is 1.", valueName: "id"))
    var appID: UInt32?

    @Option(name: .long, help: ArgumentHelp("Login token, token04 format (env RTCBOX_TOKEN).", valueName: "token"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Read the login token from FILE, and again to renew it when it is about to expire.", valueName: "file"))
    var tokenFile: String?

    @Option(name: .long, help: ArgumentHelp("Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.", valueName: "cmd"))
    var tokenCommand: String?

    @Option(name: .long, help: ArgumentHelp("The app's AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.", valueName: "hex"))
    var appSign: String?

    @Option(name: .long, help: ArgumentHelp("Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).", valueName: "duration"))
    var reconnectTimeout: String?

    @Option(name: .long, help: ArgumentHelp("How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).", valueName: "auto|udp|tcp"))
    var transport: String?

    @Option(name: .long, help: ArgumentHelp("User id, unique within the app (default: a random one).", valueName: "id"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("User name shown to others (default: the user id).", valueName: "name"))
    var userName: String?

    func validate() throws {
        if let user, let problem = Identifier.problem(with: user, kind: .user) {
            throw ValidationError(problem)
        }
        if addresses == nil {
            throw ValidationError("--server \"\(serverText)\" is not HOST:PORT[,HOST:PORT...]")
        }
        if let reconnectTimeout, DurationValue.parse(reconnectTimeout) == nil {
            throw ValidationError("--reconnect-timeout \"\(reconnectTimeout)\" is not a duration")
        }
        if mediaTransport == nil {
            throw ValidationError("\(transport != nil ? "--transport" : "RTCBOX_TRANSPORT") \"\(transportText)\" is not auto, udp or tcp")
        }
        if [token != nil, tokenFile != nil, tokenCommand != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --token, --token-file and --token-command")
        }
        if let sign = appSignText, (try? AppSign(hex: sign)) == nil {
            throw ValidationError("\(appSign != nil ? "--app-sign" : "RTCBOX_APP_SIGN") is not 64 hex characters")
        }
    }

    var appSignText: String? { appSign ?? environment["RTCBOX_APP_SIGN"] }

    var transportText: String { transport ?? environment["RTCBOX_TRANSPORT"] ?? "auto" }
    var mediaTransport: MediaTransport? { MediaTransport(rawValue: transportText.lowercased()) }

    /// Where a fresh token comes from when the current one is about to expire.
    var tokenSource: TokenSource? {
        if let tokenFile { return .file(tokenFile) }
        if let tokenCommand { return .command(tokenCommand) }
        return nil
    }

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    var serverText: String { server ?? environment["RTCBOX_SERVER"] ?? "127.0.0.1:\(RoomProtocolConstants.defaultPort)" }

    var addresses: [ServerAddress]? { ClientConfiguration.parseAddressList(serverText) }

    func configuration(defaultUserPrefix: String) throws -> ClientConfiguration {
        guard let addresses, let address = addresses.first else { throw CLIError(.usage, "--server \"\(serverText)\" is not HOST:PORT[,HOST:PORT...]") }
        let appText = environment["RTCBOX_APP_ID"]
        var app: UInt32 = 1
        if let appID { app = appID } else if let appText {
            guard let v = UInt32(appText) else { throw CLIError(.usage, "RTCBOX_APP_ID \"\(appText)\" is not a number") }
            app = v
        }
        let userID = user ?? "\(defaultUserPrefix)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let loginToken = try token ?? tokenSource?.fetch() ?? environment["RTCBOX_TOKEN"]
        var config = ClientConfiguration(host: address.host, port: address.port, appID: app,
                                         user: UserInfo(userID: userID, userName: userName ?? userID),
                                         token: loginToken.flatMap { $0.isEmpty ? nil : $0 }, appSign: appSignText)
        if let text = reconnectTimeout, let seconds = DurationValue.parse(text) { config.reconnectTimeoutSeconds = seconds }
        if let mediaTransport { config.mediaTransport = mediaTransport }
        config.otherServers = Array(addresses.dropFirst())
        return config
    }
}

/// `--events` and logging, shared by client commands.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write JSON-lines events to FILE, or - for stdout.", valueName: "file|-"))
    var events: String?

    @OptionGroup var log: LogOptions

    var quiet: Bool { log.quiet }
    var level: Logger.Level { log.level }

    /// libav's own messages follow the same choice: none by default (our one-line errors carry its text),
    /// warnings with -v, more with -vv.
    var libavLevel: FFmpegLibrary.LogLevel {
        switch level {
        case .trace: return .debug
        case .debug: return .verbose
        case .info: return .warning
        default: return .quiet
        }
    }

    /// Applies the log level to libav (call at the start of a command that uses FFmpeg).
    func applyToLibav() { FFmpegLibrary.setLogLevel(libavLevel) }
}

/// How much a command logs on stderr: -q, -v, -vv, --log-level, RTCBOX_LOG_LEVEL. Every client command has
/// it (inside OutputOptions where the command also writes events).
struct LogOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Log more on stderr (repeat for debug).")
    var verbose: Int

    @Flag(name: [.short, .long], help: "Log only errors on stderr, and no progress line.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// --log-level, else RTCBOX_LOG_LEVEL, else -q / -v / -vv, else notice.
    var level: Logger.Level {
        if let logLevel, let level = Logger.Level(rawValue: logLevel) { return level }
        if let text = ProcessInfo.processInfo.environment["RTCBOX_LOG_LEVEL"], let level = Logger.Level(rawValue: text) { return level }
        return quiet ? .error : verbose >= 2 ? .debug : verbose == 1 ? .info : .notice
    }
}
