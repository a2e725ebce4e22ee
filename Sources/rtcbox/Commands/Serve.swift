import ArgumentParser
import Foundation
import Logging
import RoomClient
import RoomServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the room server.",
        discussion: """
        Without --config the server runs the dev app (id 1, no authentication) and listens on loopback \
        only. --config FILE (TOML) names the apps (app_id, app_sign, server_secret, limits) and may set \
        every option below; each option also reads an RTCBOX_* environment variable. Precedence: flag, \
        then environment, then file, then default. Stop the server with SIGINT or SIGTERM: members are \
        told (server_shutdown) and it exits 0.
        """)

    @Option(name: .long, help: ArgumentHelp("TOML configuration: apps and server options (env RTCBOX_CONFIG).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Listen on HOST:PORT; port 0 picks a free one (env RTCBOX_LISTEN, default 127.0.0.1:7700).", valueName: "host:port"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("Event loop threads, 0 for one per core (env RTCBOX_THREADS).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Disconnect a subscriber that cannot take media this long (env RTCBOX_SLOW_CONSUMER_TIMEOUT, default 10s).", valueName: "duration"))
    var slowConsumerTimeout: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Send token_will_expire this long before a token expires (env RTCBOX_TOKEN_WARNING, default 30s).", valueName: "duration"))
    var tokenWarning: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Serve Prometheus metrics on http://HOST:PORT/metrics (env RTCBOX_METRICS).", valueName: "host:port"))
    var metrics: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let listen, ClientConfiguration.parseAddress(listen) == nil {
            throw ValidationError("--listen \"\(listen)\" is not HOST:PORT")
        }
        if let threads, !(0...256).contains(threads) { throw ValidationError("--threads must be between 0 and 256") }
        if let metrics, ClientConfiguration.parseAddress(metrics) == nil {
            throw ValidationError("--metrics \"\(metrics)\" is not HOST:PORT")
        }
    }

    /// The server configuration from flags, environment, file and defaults, in that order.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (ServerConfiguration, logLevel: String?) {
        var logLevel: String?
        let layers = Layered(environment: environment)
        var file = ServerConfigFile()
        let configPath = config ?? environment["RTCBOX_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let configPath {
            do {
                file = try ServerConfigFile.load(path: configPath)
            } catch let error as ConfigError {
                throw CLIError(.config, error.description)
            }
        }
        var result = ServerConfiguration()
        let listenText = try layers.value(flag: listen, env: "RTCBOX_LISTEN", file: file.listen, default: "127.0.0.1:7700",
                                          what: "HOST:PORT") { ClientConfiguration.parseAddress($0) == nil ? nil : $0 }
        guard let address = ClientConfiguration.parseAddress(listenText) else {
            throw CLIError(.config, "\(configPath ?? "config"): listen \"\(listenText)\" is not HOST:PORT")
        }
        (result.host, result.port) = address
        result.threads = try layers.value(flag: threads, env: "RTCBOX_THREADS", file: file.threads, default: 0,
                                          what: "a number from 0 to 256") { Int($0).flatMap { (0...256).contains($0) ? $0 : nil } }
        result.slowConsumerTimeoutSeconds = try layers.value(flag: slowConsumerTimeout?.seconds, env: "RTCBOX_SLOW_CONSUMER_TIMEOUT",
                                                             file: file.slowConsumerTimeoutSeconds, default: result.slowConsumerTimeoutSeconds,
                                                             what: "a duration", parse: DurationValue.parse)
        result.tokenWarningSeconds = try layers.value(flag: tokenWarning?.seconds, env: "RTCBOX_TOKEN_WARNING",
                                                      file: file.tokenWarningSeconds, default: result.tokenWarningSeconds,
                                                      what: "a duration", parse: DurationValue.parse)
        if let metricsText = try layers.optional(flag: metrics, env: "RTCBOX_METRICS", file: file.metrics, what: "HOST:PORT",
                                                 parse: { ClientConfiguration.parseAddress($0) == nil ? nil : $0 }) {
            guard let address = ClientConfiguration.parseAddress(metricsText) else {
                throw CLIError(.config, "\(configPath ?? "config"): metrics \"\(metricsText)\" is not HOST:PORT")
            }
            (result.metricsHost, result.metricsPort) = (address.host, address.port)
        }
        logLevel = try layers.optional(flag: output.logLevel, env: "RTCBOX_LOG_LEVEL", file: file.logLevel,
                                       what: "a log level (\(ServerConfigFile.logLevels.joined(separator: ", ")))",
                                       parse: { ServerConfigFile.logLevels.contains($0) ? $0 : nil })
        if let length = file.maximumFrameLength { result.maximumFrameLength = UInt32(length) }
        if let bytes = file.gopCacheLimitBytes { result.gopCacheLimitBytes = bytes }
        if let apps = file.apps { result.apps = apps }
        let loopback = Self.isLoopback(result.host)
        if file.apps == nil && !loopback {
            throw CLIError(.config, "listening on \(result.host) needs --config with apps: the dev app has no authentication, so it listens on loopback only")
        }
        return (result, logLevel)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() async throws {
        let (config, logLevel) = try resolve()
        var logger = makeLogger("rtcbox.serve", output)
        if let logLevel, let level = Logger.Level(rawValue: logLevel) { logger.logLevel = level }
        let server = RoomServer(configuration: config, logger: logger)
        let address: String
        do {
            let bound = try await server.start()
            address = "\(bound.ipAddress ?? config.host):\(bound.port ?? config.port)"
        } catch {
            throw CLIError(.unavailable, "cannot listen on \(config.host):\(config.port): \(error)")
        }
        let apps = config.apps == [.development]
            ? "dev app 1, no authentication, loopback only"
            : "apps: " + config.apps.map { "\($0.appID) (\($0.authSummary))" }.joined(separator: ", ")
        printError("rtcbox serve: listening on \(address) (\(apps))")
        if let metricsAddress = server.metricsAddress {
            printError("rtcbox serve: metrics on http://\(metricsAddress.ipAddress ?? "?"):\(metricsAddress.port ?? 0)/metrics")
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            InterruptHandler.shared.onInterrupt { continuation.resume() }
        }
        await server.stop()
        printError("rtcbox serve: stopped")
    }
}
