import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A UDP relay in front of a server's media port, with a bottleneck on the way back: what the server sends
/// to a client leaves at `downlinkBitsPerSecond` through a drop-tail queue of `queueMilliseconds` (a slow
/// downlink as a router lives it: a queue, then loss). The client side listens on `listenHost:port`; each
/// client address gets its own socket toward the server, so the server sees one source per client.
///
/// Used with a server bound to 127.0.0.1:P that advertises 127.0.0.2 (the relay listens on 127.0.0.2:P):
/// on Linux every 127/8 address is loopback.
public final class UDPRelay: @unchecked Sendable {
    public struct Counters: Sendable, Equatable {
        public var toServer = 0
        public var toClient = 0
        /// Datagrams toward the client dropped because the queue was full.
        public var dropped = 0
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let listener: Channel
    private let state: NIOLockedValueBox<State>
    public let port: Int

    struct State {
        var upstreams: [SocketAddress: Channel] = [:]
        var counters = Counters()
        var downlinkBitsPerSecond: Double
        var queueNanoseconds: UInt64
        /// When the bottleneck is free again (monotonic ns).
        var busyUntil: UInt64 = 0
    }

    public var counters: Counters { state.withLockedValue { $0.counters } }

    public func setDownlink(bitsPerSecond: Double, queueMilliseconds: Int) {
        state.withLockedValue {
            $0.downlinkBitsPerSecond = bitsPerSecond
            $0.queueNanoseconds = UInt64(queueMilliseconds) * 1_000_000
        }
    }

    public init(listenHost: String, port: Int, server: SocketAddress, downlinkBitsPerSecond: Double = .infinity,
                queueMilliseconds: Int = 200) async throws {
        let state = NIOLockedValueBox(State(downlinkBitsPerSecond: downlinkBitsPerSecond,
                                            queueNanoseconds: UInt64(queueMilliseconds) * 1_000_000))
        self.state = state
        let group = self.group
        let box = NIOLockedValueBox<Channel?>(nil)
        let listener = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientSide(server: server, state: state, listener: box))
                }
            }
            .bind(host: listenHost, port: port).get()
        box.withLockedValue { $0 = listener }
        self.listener = listener
        self.port = listener.localAddress?.port ?? port
    }

    public func close() async {
        let upstreams = state.withLockedValue { Array($0.upstreams.values) }
        for channel in upstreams { try? await channel.close().get() }
        try? await listener.close().get()
        try? await group.shutdownGracefully()
    }

    /// Datagrams from clients: forwarded on the client's own socket toward the server.
    final class ClientSide: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let server: SocketAddress
        let state: NIOLockedValueBox<State>
        let listener: NIOLockedValueBox<Channel?>

        init(server: SocketAddress, state: NIOLockedValueBox<State>, listener: NIOLockedValueBox<Channel?>) {
            self.server = server
            self.state = state
            self.listener = listener
        }

        /// Datagrams that came while the client's socket toward the server was being bound (the loop's).
        private var pending: [SocketAddress: [ByteBuffer]] = [:]

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let client = envelope.remoteAddress
            let server = self.server
            let state = self.state, listener = self.listener
            let forward: @Sendable (Channel, ByteBuffer) -> Void = { upstream, data in
                state.withLockedValue { $0.counters.toServer += 1 }
                upstream.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: data), promise: nil)
            }
            if let upstream = state.withLockedValue({ $0.upstreams[client] }) {
                forward(upstream, envelope.data)
                return
            }
            // One socket per client: what comes before it is bound waits for it, in order.
            if pending[client] != nil {
                pending[client]?.append(envelope.data)
                return
            }
            pending[client] = [envelope.data]
            let loop = context.eventLoop
            DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ServerSide(client: client, state: state, listener: listener))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .whenSuccess { [self] upstream in
                    loop.execute {
                        state.withLockedValue { $0.upstreams[client] = upstream }
                        for data in self.pending.removeValue(forKey: client) ?? [] { forward(upstream, data) }
                    }
                }
        }
    }

    /// Datagrams from the server to one client: through the bottleneck, then out of the listener.
    final class ServerSide: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let client: SocketAddress
        let state: NIOLockedValueBox<State>
        let listener: NIOLockedValueBox<Channel?>

        init(client: SocketAddress, state: NIOLockedValueBox<State>, listener: NIOLockedValueBox<Channel?>) {
            self.client = client
            self.state = state
            self.listener = listener
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let out = listener.withLockedValue({ $0 }) else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            let bits = Double(envelope.data.readableBytes * 8)
            let departure: UInt64? = state.withLockedValue { s in
                guard s.downlinkBitsPerSecond.isFinite else {
                    s.counters.toClient += 1
                    return now
                }
                let start = max(now, s.busyUntil)
                guard start - now <= s.queueNanoseconds else {
                    s.counters.dropped += 1
                    return nil
                }
                s.busyUntil = start + UInt64(bits / s.downlinkBitsPerSecond * 1e9)
                s.counters.toClient += 1
                return s.busyUntil
            }
            guard let departure else { return }
            let message = AddressedEnvelope(remoteAddress: client, data: envelope.data)
            if departure <= now {
                out.writeAndFlush(message, promise: nil)
            } else {
                out.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(departure)) { out.writeAndFlush(message, promise: nil) }
            }
        }
    }
}
