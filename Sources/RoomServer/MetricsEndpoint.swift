import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// `GET /metrics` in the Prometheus text format (0.0.4), on its own listener. Anything else is 404.
final class MetricsEndpoint: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// Brings gauges computed from the registry (rooms, users...) up to date before each scrape.
    private let refresh: @Sendable () -> Void

    init(registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable () -> Void) {
        self.registry = registry
        self.refresh = refresh
    }

    func bind(host: String, port: Int, group: EventLoopGroup) async throws -> Channel {
        let registry = self.registry
        let refresh = self.refresh
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(ScrapeHandler(registry: registry, refresh: refresh))
                }
            }
            .bind(host: host, port: port).get()
    }
}

private final class ScrapeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let refresh: @Sendable () -> Void
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable () -> Void) {
        self.registry = registry
        self.refresh = refresh
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            if head.method == .GET && (head.path == "/metrics" || head.path == "/") {
                refresh()
                respond(context, head, .ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
            } else {
                respond(context, head, .notFound, "text/plain; charset=utf-8", Array("not found: GET /metrics\n".utf8))
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus,
                         _ type: String, _ body: [UInt8]) {
        HTTPResponse.send(context, to: head, status: status, type: type, body: body)
    }
}

/// Counts the bytes a room connection reads and writes.
final class ByteCountingHandler: ChannelDuplexHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let metrics: ServerMetrics

    init(metrics: ServerMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        metrics.bytesIn.increment(by: Int64(unwrapInboundIn(data).readableBytes))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        metrics.bytesOut.increment(by: Int64(unwrapOutboundIn(data).readableBytes))
        context.write(data, promise: promise)
    }
}
