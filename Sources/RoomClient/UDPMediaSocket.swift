import NIOCore
import NIOPosix
import RTP

/// The client's end of UDP media: an ephemeral UDP socket of the server candidate's address family and the
/// one `RTPPeerDriver` on it (role .client: it sends the ICE checks, then is the DTLS client). Every datagram
/// that arrives goes to the peer, which answers only what its checks and DTLS expect.
public final class UDPMediaSocket: Sendable {
    public let driver: RTPPeerDriver
    private let channel: Channel

    private init(driver: RTPPeerDriver, channel: Channel) {
        self.driver = driver
        self.channel = channel
    }

    /// The socket's own address (what the server learns from ICE, before any NAT).
    public var localAddress: SocketAddress? { channel.localAddress }
    public var statistics: RTPPeerDriver.Statistics { driver.statistics }

    public func send(_ frame: RTPFrame) { driver.send(frame) }

    /// Starts a peer opened with `start: false`.
    public func start() {
        let driver = self.driver
        channel.eventLoop.execute { driver.start() }
    }
    public func requestKeyframe() { driver.requestKeyframe() }

    /// Binds a socket and, unless `start` is false, starts the peer (its first check goes out): a caller that
    /// must know the socket before its first event (a server next door connects in well under a millisecond)
    /// starts it with `start()`. `parameters.remoteAddress` is the server's candidate; `onFrames` and
    /// `onEvent` run on the socket's event loop.
    public static func open(parameters: RTPPeerParameters, certificate: DTLSCertificate, group: EventLoopGroup,
                            configuration: RTPPeer.Configuration = .init(), start: Bool = true,
                            onFrames: @escaping @Sendable ([RTPFrame]) -> Void,
                            onEvent: @escaping @Sendable (RTPPeerEvent) -> Void) async throws -> UDPMediaSocket {
        guard let server = parameters.remoteAddress else { throw UDPMediaSocketError.noCandidate }
        var parameters = parameters
        parameters.role = .client
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
            .bind(host: server.ip.isIPv4 ? "0.0.0.0" : "::", port: 0).get()
        do {
            let driver = try RTPPeerDriver(parameters: parameters, certificate: certificate, configuration: configuration,
                                           channel: channel, onFrames: onFrames, onEvent: onEvent)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(UDPMediaSocketHandler(driver: driver))
                if start { driver.start() }
            }.get()
            return UDPMediaSocket(driver: driver, channel: channel)
        } catch {
            try? await channel.close().get()
            throw error
        }
    }

    /// A player's socket takes a keyframe burst of video while its loop is busy elsewhere.
    static let receiveBufferBytes = 1 << 20

    /// Sends DTLS close_notify and an RTCP BYE (the peer ends with `.closed`), then closes the socket.
    /// Any thread; the future completes when the socket is closed.
    @discardableResult
    public func close() -> EventLoopFuture<Void> {
        let driver = self.driver
        let channel = self.channel
        return channel.eventLoop.submit { driver.close() }.flatMap { channel.close() }
            .flatMapErrorThrowing { error in
                if let error = error as? ChannelError, error == .alreadyClosed { return }
                throw error
            }
    }
}

public enum UDPMediaSocketError: Error, Equatable, CustomStringConvertible {
    case noCandidate

    public var description: String {
        switch self {
        case .noCandidate: return "the server's answer names no UDP candidate to send media to"
        }
    }
}

/// Hands every datagram to the driver, on the socket's loop.
private final class UDPMediaSocketHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let driver: RTPPeerDriver

    init(driver: RTPPeerDriver) { self.driver = driver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = TransportAddress(envelope.remoteAddress) else { return }
        driver.received(datagram: envelope.data, from: source)
    }

    /// An ICMP error (nothing listening at the candidate): ICE's checks go on and time out on their own.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
