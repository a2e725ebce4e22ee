import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RoomProtocol

/// Certificates an https WHIP/WHEP server may be signed by besides the system's (`--ca-file`: a self-signed
/// server's own certificate, or a private CA's), in PEM.
public struct WHIPTrust: Sendable {
    let certificates: [NIOSSLCertificate]
    public static let system = WHIPTrust(certificates: [])

    private init(certificates: [NIOSSLCertificate]) { self.certificates = certificates }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case notCertificates(String, detail: String)

        public var description: String {
            switch self {
            case .unreadable(let path): return "cannot read \"\(path)\""
            case .notCertificates(let path, let detail): return "\"\(path)\" holds no PEM certificate (\(detail))"
            }
        }
    }

    /// Reads every certificate of a PEM file.
    public init(pemFile path: String) throws(LoadError) {
        guard FileManager.default.isReadableFile(atPath: path) else { throw .unreadable(path) }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .notCertificates(path, detail: "\(error)")
        }
        guard !certificates.isEmpty else { throw .notCertificates(path, detail: "none found") }
        self.certificates = certificates
    }
}

/// The HTTP side of WHIP (RFC 9725) and WHEP as a client: one request per connection (POST the offer, DELETE
/// the session), http or https, the body read whole (at most `maximumBody`).
public enum WHIPSignaling {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: String

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    static let maximumBody = 256 << 10

    /// A URL rtcbox can send to: http or https, a host, a path.
    public static func check(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            return "\"\(text)\" is not an http:// or https:// URL"
        }
        return nil
    }

    /// Sends one request and reads its response. Throws `RoomClientError.unreachable` when nothing answers,
    /// `.timedOut` when the answer does not come within `timeoutSeconds`.
    public static func request(_ method: HTTPMethod, url text: String, body: String? = nil, contentType: String? = nil,
                               bearer: String?, trust: WHIPTrust = .system, group: EventLoopGroup,
                               timeoutSeconds: Double = 10) async throws -> Response {
        guard check(text) == nil, let url = URL(string: text), let host = url.host else {
            throw RoomClientError.refused(ErrorMessage(id: nil, code: .badRequest, message: check(text) ?? "bad URL \(text)"))
        }
        let https = url.scheme?.lowercased() == "https"
        let port = url.port ?? (https ? 443 : 80)
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "User-Agent", value: "rtcbox")
        headers.add(name: "Connection", value: "close")
        if let bearer { headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        let bytes = body.map { Array($0.utf8) } ?? []
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if body != nil || method == .POST { headers.add(name: "Content-Length", value: String(bytes.count)) }
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if !trust.certificates.isEmpty { tlsConfiguration.additionalTrustRoots = [.certificates(trust.certificates)] }
        let tls: NIOSSLContext? = https ? try NIOSSLContext(configuration: tlsConfiguration) : nil
        let loop = group.next()
        let done = loop.makePromise(of: Response.self)
        let collector = ResponseCollector(done: done)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.milliseconds(Int64(timeoutSeconds * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // SNI names hosts, never IP addresses (the certificate is still checked against the IP).
                        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                        if let tls { try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isIP ? nil : host)) }
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            let failure = RoomClientError.unreachable(host: host, port: port, failure: NetworkFailure(error))
            done.fail(failure)
            throw failure
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !bytes.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: bytes))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        return try await withTimeout(seconds: timeoutSeconds, on: loop, done.futureResult, what: "\(method) \(text)")
    }
}

/// Reads one response: its head, then its body up to the limit.
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let done: EventLoopPromise<WHIPSignaling.Response>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var finished = false

    init(done: EventLoopPromise<WHIPSignaling.Response>) {
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= WHIPSignaling.maximumBody else {
                return finish(.failure(RoomClientError.protocolViolation("the HTTP answer's body is over \(WHIPSignaling.maximumBody >> 10) KiB")))
            }
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return finish(.failure(RoomClientError.protocolViolation("an HTTP answer without a head"))) }
            finish(.success(WHIPSignaling.Response(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) },
                                                   body: String(buffer: body))))
        }
    }

    private func finish(_ result: Result<WHIPSignaling.Response, Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(RoomClientError.protocolViolation("the server closed the connection before its HTTP answer ended")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(RoomClientError.unreachable(host: "", port: 0, failure: NetworkFailure(error))))
        context.close(promise: nil)
    }
}
