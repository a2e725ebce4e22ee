import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 in front of a server, for network interruptions: `cut()` closes every
/// connection through it (as a dropped link would), `refuse` makes it turn new connections away, `delay`
/// holds every chunk that long in each direction, and `paused` stops forwarding without losing a byte
/// (an outage as TCP lives it: nothing arrives, then everything does).
public final class TCPProxy: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var listener: Channel?
    private let channels = NIOLockedValueBox<[Channel]>([])
    private let refusing = NIOLockedValueBox(false)
    let link = LinkState()
    public let targetPort: Int
    public private(set) var port = 0

    public init(targetPort: Int) async throws {
        self.targetPort = targetPort
        let target = targetPort
        let channels = self.channels
        let refusing = self.refusing
        let link = self.link
        let group = self.group
        listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                if refusing.withLockedValue({ $0 }) { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: "127.0.0.1", port: target)
                    .flatMap { outbound in
                        channels.withLockedValue { $0 += [inbound, outbound] }
                        return outbound.pipeline.addHandler(Relay(peer: inbound, link: link)).flatMap {
                            inbound.pipeline.addHandler(Relay(peer: outbound, link: link))
                        }.map { inbound.read() }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = listener?.localAddress?.port ?? 0
    }

    /// Drops every connection through the proxy.
    public func cut() {
        for c in channels.withLockedValue({ list -> [Channel] in defer { list.removeAll() }; return list }) { c.close(promise: nil) }
    }

    /// Added to every chunk, each way.
    public var delay: TimeAmount {
        get { link.state.withLockedValue { $0.delay } }
        set { link.state.withLockedValue { $0.delay = newValue } }
    }

    /// While paused nothing is read from either side; resuming reads on.
    public var paused: Bool {
        get { link.state.withLockedValue { $0.paused } }
        set {
            link.state.withLockedValue { $0.paused = newValue }
            if !newValue { for c in channels.withLockedValue({ $0 }) { c.read() } }
        }
    }

    public var refuse: Bool {
        get { refusing.withLockedValue { $0 } }
        set { refusing.withLockedValue { $0 = newValue } }
    }

    public func stop() async {
        cut()
        try? await listener?.close().get()
        try? await group.shutdownGracefully()
    }

    final class LinkState: Sendable {
        struct State {
            var delay = TimeAmount.zero
            var paused = false
        }
        let state = NIOLockedValueBox(State())
    }

    private final class Relay: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let peer: Channel
        let link: LinkState

        init(peer: Channel, link: LinkState) {
            self.peer = peer
            self.link = link
        }

        func channelActive(context: ChannelHandlerContext) { context.read() }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            let delay = link.state.withLockedValue { $0.delay }
            let peer = self.peer
            if delay == .zero {
                peer.writeAndFlush(bytes, promise: nil)
            } else {
                peer.eventLoop.scheduleTask(in: delay) { peer.writeAndFlush(bytes, promise: nil) }
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if !link.state.withLockedValue({ $0.paused }) { context.read() }
        }

        func channelInactive(context: ChannelHandlerContext) { peer.close(promise: nil) }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
