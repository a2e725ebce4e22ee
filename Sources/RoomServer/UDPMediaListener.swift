import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RTP

/// `serve --udp HOST:PORT`: the one UDP port every WebRTC-wire media session of the server shares (ICE-lite,
/// BUNDLE, rtcp-mux). Each datagram goes through one `UDPSessionRouter` (STUN by ufrag, the rest only from
/// addresses ICE selected) to its session's `RTPPeerDriver`; what goes nowhere is dropped and counted by
/// reason. The socket, the router and every session's peer live on one event loop (the socket's).
/// Knows no room rules: publish and play add sessions with the parameters they negotiated.
final class UDPMediaListener: Sendable {
    /// One session on the port (the server's end of one publish or play). Any thread.
    final class Session: Sendable {
        let id: UInt64
        private let driver: RTPPeerDriver

        fileprivate init(id: UInt64, driver: RTPPeerDriver) {
            self.id = id
            self.driver = driver
        }

        var parameters: RTPPeerParameters { driver.parameters }
        /// Datagrams and bytes this session read and wrote.
        var statistics: RTPPeerDriver.Statistics { driver.statistics }
        func send(_ frame: RTPFrame) { driver.send(frame) }
        /// How long media sent now waits before it reaches the remote, in nanoseconds: in the peer's pacer,
        /// and in the path's queue (transport-cc's one-way delay above its floor, less what the path drained
        /// since it was measured). The drop policy's backlog.
        var backlogNanoseconds: UInt64 {
            let s = driver.peerStatistics
            return UInt64(max(0, s.pacerQueueDelay) + s.pathQueueDelay(at: RTPPeerDriver.now())) * 1000
        }
        func requestKeyframe() { driver.requestKeyframe() }
        /// Sends DTLS close_notify and an RTCP BYE; the session then ends with `.closed` and leaves the router.
        func close() { driver.close() }
    }

    /// The server's DTLS certificate, one for every session: its fingerprint goes into each answer.
    let certificate: DTLSCertificate
    /// The address to advertise as the ICE candidate: the bound one, or `--udp-advertise` with the bound port.
    let candidate: TransportAddress
    private let channel: Channel
    private let handler: UDPMediaHandler
    private let nextID = NIOLockedValueBox<UInt64>(1)

    var localFingerprint: DTLSFingerprint { certificate.fingerprint }
    var localAddress: SocketAddress? { channel.localAddress }

    /// The socket's buffer for arriving datagrams: a keyframe burst of several streams must fit while the
    /// loop is busy (the kernel caps it at net.core.rmem_max).
    static let receiveBufferBytes = 4 << 20
    /// Datagrams one recvmmsg reads (Linux), each in a slice of `datagramSliceBytes`.
    static let vectorReadCount = 32
    static let datagramSliceBytes = 2048

    private init(channel: Channel, handler: UDPMediaHandler, certificate: DTLSCertificate, candidate: TransportAddress) {
        self.channel = channel
        self.handler = handler
        self.certificate = certificate
        self.candidate = candidate
    }

    /// Binds the port. `advertise` (an IP) is what clients are told to reach; it is needed when `host` is
    /// the wildcard (0.0.0.0 or ::), which names no address a client could send to.
    static func bind(host: String, port: Int, advertise: String?, group: EventLoopGroup, certificate: DTLSCertificate,
                     metrics: ServerMetrics, logger: Logger,
                     limits: UDPSessionRouter<UInt64>.Limits = .init()) async throws -> UDPMediaListener {
        let advertised = try advertisedIP(host: host, port: port, advertise: advertise)
        let handler = UDPMediaHandler(router: UDPSessionRouter(limits: limits), metrics: metrics, logger: logger)
        // No SO_REUSEADDR: UDP has no TIME_WAIT for it to skip, and on Linux it would let a second server
        // bind the same port and take half of this one's datagrams. A port in use is an error.
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
            .channelOption(.maxMessagesPerRead, value: 8)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: vectorReadCount * datagramSliceBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
        #if os(Linux)
        bootstrap = bootstrap.channelOption(.datagramVectorReadMessageCount, value: vectorReadCount)
        #endif
        let channel = try await bootstrap.bind(host: host, port: port).get()
        guard let local = channel.localAddress, let bound = TransportAddress(local) else {
            try? await channel.close().get()
            throw UDPMediaListenerError.noLocalAddress
        }
        // Linux reports twice what it grants (its bookkeeping overhead); less than asked means rmem_max capped it.
        if let granted = try? await channel.getOption(.socketOption(.so_rcvbuf)).get(), Int(granted) < receiveBufferBytes {
            logger.notice("UDP receive buffer is \(Int(granted) >> 10) KiB, not \(receiveBufferBytes >> 10) KiB: net.core.rmem_max caps it; raise it (sysctl) for video bursts")
        }
        return UDPMediaListener(channel: channel, handler: handler, certificate: certificate,
                                candidate: TransportAddress(ip: advertised ?? bound.ip, port: bound.port))
    }

    /// `--udp-advertise`'s address, checked against the bound host before anything binds.
    static func advertisedIP(host: String, port: Int, advertise: String?) throws(UDPMediaListenerError) -> TransportAddress.IP? {
        let bound = TransportAddress.IP(host)
        let wildcard = bound == .v4(0) || bound == .v6(high: 0, low: 0)
        guard let advertise else {
            if wildcard { throw .advertiseNeeded(listen: "\(host):\(port)") }
            return nil
        }
        guard let ip = TransportAddress.IP(advertise), ip != .v4(0), ip != .v6(high: 0, low: 0) else {
            throw .badAdvertise(advertise)
        }
        // An IPv4 socket cannot send to an IPv6 client; an IPv6 wildcard socket takes both (dual stack).
        if let bound, bound.isIPv4, !ip.isIPv4 { throw .familyMismatch(listen: "\(host):\(port)", advertise: advertise) }
        return ip
    }

    /// A session for `parameters` (role .server, its local ICE ufrag unique on the port): a peer with the
    /// port's certificate, answering STUN for that ufrag from now on. `onFrames` and `onEvent` run on the
    /// port's loop; `.selectedAddress` binds the address in the router, `.failed`/`.closed` remove the
    /// session (a session that never connects fails by ICE's own timeout). A port already full, or a ufrag
    /// already in use, ends the session with `.failed` (the router lives on the loop: found out there).
    func add(_ parameters: RTPPeerParameters, onFrames: @escaping @Sendable ([RTPFrame]) -> Void,
             onEvent: @escaping @Sendable (RTPPeerEvent) -> Void) throws -> Session {
        let id = nextID.withLockedValue { value -> UInt64 in
            defer { value += 1 }
            return value
        }
        let handler = self.handler
        let driver = try RTPPeerDriver(parameters: parameters, certificate: certificate, channel: channel, onFrames: onFrames,
                                       onEvent: { event in
                                           handler.sessionEvent(id, event)
                                           onEvent(event)
                                       })
        channel.eventLoop.execute { handler.register(id, localUfrag: parameters.localICE.ufrag, driver: driver) }
        return Session(id: id, driver: driver)
    }

    /// Sessions on the port (on its loop).
    var sessionCount: Int {
        get async { (try? await channel.eventLoop.submit { self.handler.sessionCount }.get()) ?? 0 }
    }

    /// Closes every session (close_notify and BYE go out), then the socket.
    func close() async {
        let handler = self.handler
        let channel = self.channel
        try? await channel.eventLoop.submit { handler.closeAll() }.get()
        try? await channel.close().get()
    }
}

extension ServerConfiguration {
    /// Checks `udpAdvertise` against `udpHost` as the listener does before it binds (serve: before anything listens).
    public func checkUDPAdvertise() throws(UDPMediaListenerError) {
        guard let host = udpHost else { return }
        _ = try UDPMediaListener.advertisedIP(host: host, port: udpPort, advertise: udpAdvertise)
    }
}

public enum UDPMediaListenerError: Error, Equatable, CustomStringConvertible {
    case advertiseNeeded(listen: String)
    case badAdvertise(String)
    case familyMismatch(listen: String, advertise: String)
    case noLocalAddress

    public var description: String {
        switch self {
        case .advertiseNeeded(let listen):
            return "--udp \(listen) binds every address: add --udp-advertise IP, the address clients send media to"
        case .badAdvertise(let text):
            return "--udp-advertise \"\(text)\" is not an IP address clients can send to"
        case .familyMismatch(let listen, let advertise):
            return "--udp-advertise \(advertise) is IPv6 but --udp \(listen) is an IPv4 socket"
        case .noLocalAddress:
            return "the UDP media socket has no local address"
        }
    }
}

/// The port's one handler: routes what arrives, counts what leaves. `@unchecked Sendable`: `router` and
/// `drivers` belong to the socket's event loop (channel callbacks, and the tasks `UDPMediaListener` puts on it).
private final class UDPMediaHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private var router: UDPSessionRouter<UInt64>
    private var drivers: [UInt64: RTPPeerDriver] = [:]
    private let metrics: ServerMetrics
    private let logger: Logger

    init(router: UDPSessionRouter<UInt64>, metrics: ServerMetrics, logger: Logger) {
        self.router = router
        self.metrics = metrics
        self.logger = logger
    }

    var sessionCount: Int { drivers.count }

    func register(_ id: UInt64, localUfrag: String, driver: RTPPeerDriver) {
        do {
            try router.register(id, localUfrag: localUfrag)
        } catch {
            driver.abort("\(error)")
            return
        }
        drivers[id] = driver
        metrics.udpSessions.set(drivers.count)
        driver.start()
    }

    /// A session's event, before its owner sees it: the router follows ICE, and forgets the session at its end.
    func sessionEvent(_ id: UInt64, _ event: RTPPeerEvent) {
        switch event {
        case .selectedAddress(let address, _):
            router.bind(id, to: address)
        case .failed, .closed:
            router.remove(id)
            if drivers.removeValue(forKey: id) != nil { metrics.udpSessions.set(drivers.count) }
        default:
            break
        }
    }

    func closeAll() {
        for driver in Array(drivers.values) { driver.close() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        metrics.udpDatagramsIn.increment()
        metrics.udpBytesIn.increment(by: Int64(envelope.data.readableBytes))
        guard let source = TransportAddress(envelope.remoteAddress) else {
            metrics.udpDropped[.unknownSource]?.increment()
            return
        }
        switch router.route(envelope.data, from: source) {
        case .stun(let id, let message):
            drivers[id]?.received(stun: message, from: source)
        case .dtls(let id), .rtp(let id), .rtcp(let id):
            drivers[id]?.received(datagram: envelope.data, from: source)
        case .drop(let reason):
            metrics.udpDropped[reason]?.increment()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        metrics.udpDatagramsOut.increment()
        metrics.udpBytesOut.increment(by: Int64(unwrapOutboundIn(data).data.readableBytes))
        context.write(data, promise: promise)
    }

    /// ICMP errors (a client gone: ECONNREFUSED) reach here; the port serves on.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("UDP media socket: \(error)")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        drivers.removeAll()
    }
}
