import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import RoomProtocol

/// `serve --web`: one HTTP listener that serves the room page (`GET /`) and upgrades `GET /ws` to a WebSocket
/// speaking the room protocol (see `WebSocketRoomAdapter`), with TLS when a certificate is configured.
struct WebListener {
    static let webSocketPath = "/ws"

    let configuration: ServerConfiguration
    let makeRoomHandler: @Sendable () -> ServerConnectionHandler
    /// WHIP and WHEP (nil: their paths answer 404).
    let gateway: WebRTCGateway?
    let metrics: ServerMetrics
    let countBytes: Bool

    /// Loads the certificate chain and key, or names the file that is wrong.
    static func tlsContext(certificate: String, key: String) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw WebListenerError.tls("--tls-cert \(certificate): cannot read a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw WebListenerError.tls("--tls-cert \(certificate): no certificate in the file") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw WebListenerError.tls("--tls-key \(key): cannot read a PEM private key (\(error))")
        }
        do {
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
            tls.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw WebListenerError.tls("--tls-cert/--tls-key: the key does not fit the certificate (\(error))")
        }
    }

    func bind(host: String, port: Int, tls: NIOSSLContext?, group: EventLoopGroup) async throws -> Channel {
        let configuration = self.configuration
        let makeRoomHandler = self.makeRoomHandler
        let metrics = self.metrics
        let countBytes = self.countBytes
        let gateway = self.gateway
        let origins = OriginPolicy(allowed: configuration.webOrigins)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .roomConnectionOptions(configuration)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: Int(configuration.maximumFrameLength),
                    automaticErrorHandling: true,
                    shouldUpgrade: { channel, head in
                        guard head.path == Self.webSocketPath, origins.allows(head) else {
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                        var headers = HTTPHeaders()
                        let asked = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
                            .map { $0.trimmingCharacters(in: .whitespaces) }
                        if asked.contains(RoomProtocolConstants.webSocketSubprotocol) {
                            headers.add(name: "Sec-WebSocket-Protocol", value: RoomProtocolConstants.webSocketSubprotocol)
                        }
                        return channel.eventLoop.makeSucceededFuture(headers)
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(NIOWebSocketFrameAggregator(
                                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                                maxAccumulatedFrameSize: Int(configuration.maximumFrameLength)))
                            try sync.addHandler(WebSocketRoomAdapter())
                            try sync.addHandler(makeRoomHandler())
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if countBytes { try sync.addHandler(ByteCountingHandler(metrics: metrics)) }
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    // After an upgrade the page handler leaves (the WebSocket handlers were added behind it).
                    let page = WebPageHandler(origins: origins, gateway: gateway)
                    try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                        context.pipeline.syncOperations.removeHandler(page, promise: nil)
                    }))
                    try sync.addHandler(page)
                }
            }
            .bind(host: host, port: port).get()
    }
}

/// Which pages may open the WebSocket: requests without an Origin (non-browser clients), the page's own origin
/// (the Origin's host equals the request's Host), and the origins allowed with `--web-origin` (`*`: any).
struct OriginPolicy: Sendable {
    let allowed: [String]

    func allows(_ head: HTTPRequestHead) -> Bool {
        guard let origin = head.headers["Origin"].first else { return true }
        if allowed.contains("*") || allowed.contains(origin) { return true }
        guard let host = head.headers["Host"].first else { return false }
        let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        return originHost == host
    }
}

public enum WebListenerError: Error, CustomStringConvertible {
    case tls(String)

    public var description: String {
        switch self {
        case .tls(let message): return message
        }
    }
}
