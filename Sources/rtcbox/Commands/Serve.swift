import ArgumentParser
import Foundation
import Logging
import RoomClient
import RoomServer
import RTP

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

    @Option(name: .long, help: ArgumentHelp("Run the event loops with SCHED_FIFO at this priority (1-99), so that no ordinary process preempts a fan-out; needs CAP_SYS_NICE or `ulimit -r` (env RTCBOX_REALTIME_PRIORITY).", valueName: "n"))
    var realtimePriority: Int?

    @Option(name: .long, help: ArgumentHelp("Disconnect a subscriber that cannot take media this long (env RTCBOX_SLOW_CONSUMER_TIMEOUT, default 10s).", valueName: "duration"))
    var slowConsumerTimeout: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Send token_will_expire this long before a token expires (env RTCBOX_TOKEN_WARNING, default 30s).", valueName: "duration"))
    var tokenWarning: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Serve Prometheus metrics on http://HOST:PORT/metrics (env RTCBOX_METRICS).", valueName: "host:port"))
    var metrics: String?

    @Option(name: .long, help: ArgumentHelp("Serve the room page on http://HOST:PORT/, its WebSocket on /ws, and WHIP on /whip/ROOM/STREAM (with --udp) (env RTCBOX_WEB).", valueName: "host:port"))
    var web: String?

    @Option(name: .long, help: ArgumentHelp("Also let pages from this origin open the WebSocket; repeatable, * for any (env RTCBOX_WEB_ORIGINS, comma-separated).", valueName: "origin"))
    var webOrigin: [String] = []

    @Option(name: .long, help: ArgumentHelp("Carry media over UDP on this port, WebRTC's wire (ICE-lite, DTLS-SRTP, every session on one port) (env RTCBOX_UDP).", valueName: "ip:port"))
    var udp: String?

    @Option(name: .long, help: ArgumentHelp("The IP clients send UDP media to (the ICE candidate); needed when --udp binds 0.0.0.0 or :: (env RTCBOX_UDP_ADVERTISE).", valueName: "ip"))
    var udpAdvertise: String?

    @Option(name: .long, help: ArgumentHelp("PEM certificate chain: the web listener speaks https/wss (env RTCBOX_TLS_CERT).", valueName: "file"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("PEM private key of --tls-cert (env RTCBOX_TLS_KEY).", valueName: "file"))
    var tlsKey: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let listen, ClientConfiguration.parseAddress(listen) == nil {
            throw ValidationError("--listen \"\(listen)\" is not HOST:PORT")
        }
        if let threads, !(0...256).contains(threads) { throw ValidationError("--threads must be between 0 and 256") }
        if let realtimePriority, !ServerConfiguration.realtimePriorities.contains(realtimePriority) {
            throw ValidationError("--realtime-priority must be between 1 and 99")
        }
        if let metrics, ClientConfiguration.parseAddress(metrics) == nil {
            throw ValidationError("--metrics \"\(metrics)\" is not HOST:PORT")
        }
        if let web, Self.webAddress(web) == nil {
            throw ValidationError("--web \"\(web)\" is not HOST:PORT")
        }
        if let udp, Self.udpAddress(udp) == nil {
            throw ValidationError("--udp \"\(udp)\" is not IP:PORT")
        }
        if let udpAdvertise, Self.advertisableIP(udpAdvertise) == nil {
            throw ValidationError("--udp-advertise \"\(udpAdvertise)\" is not an IP address clients can send to")
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
        let priorities = ServerConfiguration.realtimePriorities
        result.realtimePriority = try layers.optional(flag: realtimePriority, env: "RTCBOX_REALTIME_PRIORITY", file: file.realtimePriority,
                                                      what: "a number from 1 to 99") { Int($0).flatMap { priorities.contains($0) ? $0 : nil } }
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
        if let webText = try layers.optional(flag: web, env: "RTCBOX_WEB", file: file.web, what: "HOST:PORT",
                                             parse: { Self.webAddress($0) == nil ? nil : $0 }) {
            guard let address = Self.webAddress(webText) else {
                throw CLIError(.config, "\(configPath ?? "config"): web \"\(webText)\" is not HOST:PORT")
            }
            (result.webHost, result.webPort) = (address.host, address.port)
        }
        result.webOrigins = try layers.value(flag: webOrigin.isEmpty ? nil : webOrigin, env: "RTCBOX_WEB_ORIGINS", file: file.webOrigins,
                                             default: [], what: "a list of origins") {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let udpText = try layers.optional(flag: udp, env: "RTCBOX_UDP", file: file.udp, what: "IP:PORT",
                                             parse: { Self.udpAddress($0) == nil ? nil : $0 }) {
            guard let address = Self.udpAddress(udpText) else {
                throw CLIError(.config, "\(configPath ?? "config"): udp \"\(udpText)\" is not IP:PORT")
            }
            (result.udpHost, result.udpPort) = (address.host, address.port)
        }
        result.udpAdvertise = try layers.optional(flag: udpAdvertise, env: "RTCBOX_UDP_ADVERTISE", file: file.udpAdvertise,
                                                  what: "an IP address", parse: { Self.advertisableIP($0) })
        if let advertise = result.udpAdvertise, Self.advertisableIP(advertise) == nil {
            throw CLIError(.config, "\(configPath ?? "config"): udp_advertise \"\(advertise)\" is not an IP address clients can send to")
        }
        do {
            try result.checkUDPAdvertise()
        } catch {
            throw CLIError(.usage, error.description)
        }
        if result.udpHost == nil, result.udpAdvertise != nil {
            throw CLIError(.usage, "--udp-advertise names the UDP media port's address: add --udp IP:PORT")
        }
        result.tlsCertificatePath = try layers.optional(flag: tlsCert, env: "RTCBOX_TLS_CERT", file: file.tlsCertificate, parse: { $0 })
        result.tlsKeyPath = try layers.optional(flag: tlsKey, env: "RTCBOX_TLS_KEY", file: file.tlsKey, parse: { $0 })
        switch (result.tlsCertificatePath, result.tlsKeyPath) {
        case (.some, nil): throw CLIError(.usage, "--tls-cert needs --tls-key")
        case (nil, .some): throw CLIError(.usage, "--tls-key needs --tls-cert")
        case (.some, .some) where result.webHost == nil: throw CLIError(.usage, "--tls-cert/--tls-key secure the web listener: add --web HOST:PORT")
        default: break
        }
        logLevel = try layers.optional(flag: output.log.logLevel, env: "RTCBOX_LOG_LEVEL", file: file.logLevel,
                                       what: "a log level (\(ServerConfigFile.logLevels.joined(separator: ", ")))",
                                       parse: { ServerConfigFile.logLevels.contains($0) ? $0 : nil })
        if let length = file.maximumFrameLength { result.maximumFrameLength = UInt32(length) }
        if let bytes = file.gopCacheLimitBytes { result.gopCacheLimitBytes = bytes }
        if let apps = file.apps { result.apps = apps }
        let loopback = Self.isLoopback(result.host)
        if file.apps == nil && !loopback {
            throw CLIError(.config, "listening on \(result.host) needs --config with apps: the dev app has no authentication, so it listens on loopback only")
        }
        if file.apps == nil, let webHost = result.webHost, !Self.isLoopback(webHost) {
            throw CLIError(.config, "--web on \(webHost) needs --config with apps: the dev app has no authentication, so it listens on loopback only")
        }
        if file.apps == nil, let udpHost = result.udpHost, !Self.isLoopback(udpHost) {
            throw CLIError(.config, "--udp on \(udpHost) needs --config with apps: the dev app has no authentication, so it listens on loopback only")
        }
        return (result, logLevel)
    }

    /// HOST:PORT with the port spelled out (a bare host would take the room port).
    static func webAddress(_ text: String) -> (host: String, port: Int)? {
        ClientConfiguration.parseAddress(text, defaultPort: -1).flatMap { $0.port < 0 ? nil : $0 }
    }

    /// IP:PORT of the UDP media port: an IP literal (the ICE candidate is one) and the port spelled out.
    static func udpAddress(_ text: String) -> (host: String, port: Int)? {
        webAddress(text).flatMap { TransportAddress.IP($0.host) == nil ? nil : $0 }
    }

    /// An IP a client can send to (not the wildcard), as --udp-advertise takes it.
    static func advertisableIP(_ text: String) -> String? {
        guard let ip = TransportAddress.IP(text), ip != .v4(0), ip != .v6(high: 0, low: 0) else { return nil }
        return ip.description
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() async throws {
        let (config, logLevel) = try resolve()
        var logger = makeLogger("rtcbox.serve", output)
        if let logLevel, let level = Logger.Level(rawValue: logLevel) { logger.logLevel = level }
        let server = RoomServer(configuration: config, logger: logger, audioTranscoding: MediaOpusTranscoding())
        let address: String
        do {
            let bound = try await server.start()
            address = "\(bound.ipAddress ?? config.host):\(bound.port ?? config.port)"
        } catch let error as WebListenerError {
            throw CLIError(.config, error.description)
        } catch let error as UDPMediaListenerError {
            throw CLIError(.usage, error.description)
        } catch let error as ServerError {
            throw CLIError(error.isPermission ? .refused : .unavailable, error.description(describing: { NetworkFailure($0).words }))
        } catch {
            throw CLIError(.unavailable, "cannot listen on \(config.host):\(config.port): \(NetworkFailure(error).words)")
        }
        let apps = config.apps == [.development]
            ? "dev app 1, no authentication, loopback only"
            : "apps: " + config.apps.map { "\($0.appID) (\($0.authSummary))" }.joined(separator: ", ")
        printError("rtcbox serve: listening on \(address) (\(apps))")
        if let priority = config.realtimePriority {
            printError("rtcbox serve: event loops run SCHED_FIFO at priority \(priority)")
        }
        if let webAddress = server.webAddress {
            let scheme = config.tlsCertificatePath == nil ? "http" : "https"
            let host = webAddress.ipAddress ?? config.webHost ?? "?"
            printError("rtcbox serve: room page on \(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(webAddress.port ?? 0)/ (WebSocket on /ws\(server.udpAddress == nil ? "" : ", WHIP on /whip/ROOM/STREAM"))")
            if scheme == "http", let webHost = config.webHost, !Self.isLoopback(webHost) {
                printWarning("browsers allow WebCodecs only on https or on localhost/127.0.0.1: use --tls-cert/--tls-key for \(webHost)")
            }
        }
        if let udpAddress = server.udpAddress, let candidate = server.udpCandidate {
            let bound = "\(udpAddress.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "?"):\(udpAddress.port ?? 0)"
            let advertised = bound == candidate.description ? "" : ", advertised as \(candidate)"
            printError("rtcbox serve: UDP media on \(bound)\(advertised)")
        }
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
