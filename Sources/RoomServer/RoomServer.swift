#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import RoomProtocol
import RTP

/// The room server: listens, and hands each connection to a handler that talks to the one registry.
public final class RoomServer: Sendable {
    public let configuration: ServerConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let registry: RoomRegistry
    private let logger: Logger
    private let channel: NIOLockedValueBox<Channel?> = .init(nil)
    private let metricsChannel: NIOLockedValueBox<Channel?> = .init(nil)
    private let webChannel: NIOLockedValueBox<Channel?> = .init(nil)
    private let udpListener: NIOLockedValueBox<UDPMediaListener?> = .init(nil)
    private let gateway: NIOLockedValueBox<WebRTCGateway?> = .init(nil)
    private let nextSessionID = NIOLockedValueBox<UInt64>(1)
    private let metrics: ServerMetrics
    private let prometheus: PrometheusCollectorRegistry?

    /// `audioTranscoding`: AAC → Opus for WebRTC players of AAC streams (browsers play no AAC over WebRTC).
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "rtcbox.serve"),
                audioTranscoding: (any AudioTranscoding)? = nil) {
        self.configuration = configuration
        self.logger = logger
        let threads = configuration.threads > 0 ? configuration.threads : System.coreCount
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        if configuration.metricsHost != nil {
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets = ["rtcbox_login_seconds": ServerMetrics.loginBuckets,
                                                "rtcbox_join_seconds": ServerMetrics.joinBuckets,
                                                "rtcbox_fanout_video_delay_seconds": ServerMetrics.fanoutDelayBuckets]
            self.prometheus = registry
            self.metrics = ServerMetrics(factory: factory)
        } else {
            self.prometheus = nil
            self.metrics = .disabled
        }
        self.registry = RoomRegistry(configuration: configuration, logger: logger, metrics: metrics, audioTranscoding: audioTranscoding)
    }

    /// Binds the listener; returns the bound address (port 0 picks a free port).
    @discardableResult
    public func start() async throws -> SocketAddress {
        let configuration = self.configuration
        let registry = self.registry
        let logger = self.logger
        let ids = self.nextSessionID
        let metrics = self.metrics
        let counting = prometheus != nil
        if let priority = configuration.realtimePriority { try await RealtimeScheduling.apply(priority: priority, to: group) }
        let makeHandler: @Sendable (ServerConnectionHandler.MediaEntry?, Bool) -> ServerConnectionHandler = { entry, local in
            let id = ids.withLockedValue { value -> UInt64 in
                defer { value += 1 }
                return value
            }
            return ServerConnectionHandler(registry: registry, configuration: configuration, sessionID: id, logger: logger,
                                           metrics: metrics, mediaEntry: entry, endsWithMedia: local)
        }
        // TLS files are read before anything listens: a bad file is a configuration error, not half a server.
        var tls: NIOSSLContext?
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            tls = try WebListener.tlsContext(certificate: certificate, key: key)
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .roomConnectionOptions(configuration)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let decoder = ByteToMessageHandler(RoomFrameDecoder(maximumFrameLength: configuration.maximumFrameLength))
                    let first: ChannelHandler = counting ? ByteCountingHandler(metrics: metrics) : decoder
                    if counting { try sync.addHandler(first) }
                    try sync.addHandler(decoder)
                    // Media enters at the first handler: nothing on a TCP connection has to see it on its way out.
                    try sync.addHandler(makeHandler(.init(handler: first, bypassesByteCounting: counting), false))
                }
            }
        let bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        channel.withLockedValue { $0 = bound }
        guard let address = bound.localAddress else {
            throw ServerError.noLocalAddress
        }
        if let prometheus, let host = configuration.metricsHost {
            let endpoint = MetricsEndpoint(registry: prometheus) { [registry, metrics] in
                let c = registry.counts
                metrics.rooms.set(c.rooms)
                metrics.users.set(c.users)
                metrics.streams.set(c.streams)
                metrics.subscribers.set(c.subscribers)
            }
            do {
                let listener = try await endpoint.bind(host: host, port: configuration.metricsPort, group: group)
                metricsChannel.withLockedValue { $0 = listener }
            } catch {
                try? await bound.close().get()
                throw ServerError.metricsListener("\(host):\(configuration.metricsPort)", error)
            }
        }
        if let host = configuration.webHost {
            // WHIP/WHEP sessions are room members in this process: each a Unix socket pair, one end an ordinary
            // room connection (it ends when its WebRTC media does), the other the gateway's.
            let group = self.group
            let webRTC = WebRTCGateway(configuration: configuration, logger: logger, hasUDP: { registry.udpMedia != nil }, connect: {
                try await LocalMember.connect(on: group.next(), maximumFrameLength: configuration.maximumFrameLength) { fd in
                    ClientBootstrap(group: group.next())
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let sync = channel.pipeline.syncOperations
                                try sync.addHandler(ByteToMessageHandler(RoomFrameDecoder(maximumFrameLength: configuration.maximumFrameLength)))
                                try sync.addHandler(makeHandler(nil, true))
                            }
                        }
                        .withConnectedSocket(fd)
                }
            })
            gateway.withLockedValue { $0 = webRTC }
            let web = WebListener(configuration: configuration, makeRoomHandler: { makeHandler(nil, false) }, gateway: webRTC,
                                  metrics: metrics, countBytes: counting)
            do {
                let listener = try await web.bind(host: host, port: configuration.webPort, tls: tls, group: group)
                webChannel.withLockedValue { $0 = listener }
            } catch {
                try? await bound.close().get()
                throw ServerError.webListener("\(host):\(configuration.webPort)", error)
            }
        }
        if let host = configuration.udpHost {
            do {
                let listener = try await UDPMediaListener.bind(host: host, port: configuration.udpPort, advertise: configuration.udpAdvertise,
                                                               group: group, certificate: try DTLSCertificate(), metrics: metrics, logger: logger)
                udpListener.withLockedValue { $0 = listener }
                registry.udpMedia = listener
            } catch {
                try? await bound.close().get()
                try? await metricsChannel.withLockedValue { $0 }?.close().get()
                try? await webChannel.withLockedValue { $0 }?.close().get()
                if let error = error as? UDPMediaListenerError, error != .noLocalAddress { throw error }
                throw ServerError.udpListener("\(host):\(configuration.udpPort)", error)
            }
        }
        return address
    }

    /// Where the room page and `GET /ws` answer, once started with a web address.
    public var webAddress: SocketAddress? { webChannel.withLockedValue { $0?.localAddress } }

    /// Where `GET /metrics` answers, once started with a metrics address.
    public var metricsAddress: SocketAddress? { metricsChannel.withLockedValue { $0?.localAddress } }

    /// Where the UDP media port is bound, once started with a UDP address.
    public var udpAddress: SocketAddress? { udpListener.withLockedValue { $0?.localAddress } }

    /// The address clients are told to send UDP media to (the ICE candidate).
    public var udpCandidate: TransportAddress? { udpListener.withLockedValue { $0?.candidate } }

    /// The UDP media port, for publish and play to add sessions to.
    var udpMedia: UDPMediaListener? { udpListener.withLockedValue { $0 } }

    public var counts: (rooms: Int, users: Int, streams: Int) {
        let c = registry.counts
        return (c.rooms, c.users, c.streams)
    }

    /// Tells clients the server is going away, stops listening, waits briefly for writes, and shuts down.
    public func stop() async {
        await gateway.withLockedValue { $0 }?.closeAll()
        registry.shutdown()
        let listener = channel.withLockedValue { $0 }
        try? await listener?.close().get()
        try? await metricsChannel.withLockedValue { $0 }?.close().get()
        try? await webChannel.withLockedValue { $0 }?.close().get()
        await udpListener.withLockedValue { $0 }?.close()
        try? await Task.sleep(for: .milliseconds(200))
        try? await group.shutdownGracefully()
    }

    /// Waits until the listener closes.
    public func waitUntilClosed() async {
        let listener = channel.withLockedValue { $0 }
        try? await listener?.closeFuture.get()
    }
}

extension ServerBootstrap {
    /// What every room connection gets, TCP or WebSocket: no Nagle, a bounded kernel send buffer and the
    /// subscriber water marks that drive dropping to keyframes (see ServerConfiguration).
    func roomConnectionOptions(_ configuration: ServerConfiguration) -> ServerBootstrap {
        childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(configuration.socketSendBufferBytes))
            .childChannelOption(.tcpOption(.tcp_notsent_lowat), value: SocketOptionValue(configuration.socketNotSentLowWaterBytes))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: configuration.subscriberLowWaterMark,
                                                                    high: configuration.subscriberHighWaterMark))
    }
}

public enum ServerError: Error, CustomStringConvertible {
    case noLocalAddress
    /// The address, and the socket error.
    case metricsListener(String, any Error)
    case webListener(String, any Error)
    case udpListener(String, any Error)
    /// The event loops could not have SCHED_FIFO (errno from pthread_setschedparam).
    case realtime(priority: Int, errno: Int32)

    /// The server was not allowed something it was asked for (not a fault of the network or the machine).
    public var isPermission: Bool {
        if case .realtime(_, let code) = self { return code == EPERM }
        return false
    }

    public var description: String { description(describing: { "\($0)" }) }

    /// The line, with `describe` saying what a listener's socket error was (rtcbox serve: NetworkFailure's words).
    public func description(describing describe: (any Error) -> String) -> String {
        switch self {
        case .noLocalAddress: return "the listener has no local address"
        case .metricsListener(let address, let why): return "cannot listen for metrics on \(address): \(describe(why))"
        case .webListener(let address, let why): return "cannot listen for the web page on \(address): \(describe(why))"
        case .udpListener(let address, let why): return "cannot listen for UDP media on \(address): \(describe(why))"
        case .realtime(let priority, let code):
            let why = String(cString: strerror(code))
            if code == EPERM {
                return "cannot run the event loops at SCHED_FIFO priority \(priority): \(why) (needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least \(priority): `ulimit -r \(priority)`, LimitRTPRIO= in a systemd unit)"
            }
            return "cannot run the event loops at SCHED_FIFO priority \(priority): \(why)"
        }
    }
}
