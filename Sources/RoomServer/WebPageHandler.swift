import NIOCore
import NIOHTTP1

/// Serves the room page's files (embedded in the binary from `Sources/RoomServer/Web`) to plain HTTP requests,
/// and hands WHIP/WHEP requests (`/whip/...`, `/whep/...`, with their bodies) to the `WebRTCGateway`.
final class WebPageHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Asset {
        let type: String
        let bytes: [UInt8]
    }

    static let assets: [String: Asset] = [
        "/": Asset(type: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "/index.html": Asset(type: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "/app.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.app_js),
        "/style.css": Asset(type: "text/css; charset=utf-8", bytes: PackageResources.style_css),
        "/whip.html": Asset(type: "text/html; charset=utf-8", bytes: PackageResources.whip_html),
        "/webrtc.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.webrtc_js),
        "/common.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.common_js),
        "/connection.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.connection_js),
        "/h264.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.h264_js),
        "/player.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.player_js),
        "/publisher.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.publisher_js),
        "/room.js": Asset(type: "text/javascript; charset=utf-8", bytes: PackageResources.room_js),
    ]

    private let origins: OriginPolicy
    private let gateway: WebRTCGateway?
    private var request: HTTPRequestHead?
    /// The body of a WHIP/WHEP request so far; nil once it grew past the gateway's limit (the request is then
    /// answered 413 at its end).
    private var body: ByteBuffer? = ByteBuffer()

    init(origins: OriginPolicy, gateway: WebRTCGateway?) {
        self.origins = origins
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
            body = ByteBuffer()
        case .body(var chunk):
            // Only WHIP/WHEP read bodies; the page's requests have none worth keeping.
            guard let head = request, WebRTCRoute.claims(head.path), body != nil else { return }
            if body!.readableBytes + chunk.readableBytes > WebRTCGateway.maximumOfferBytes {
                body = nil
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head = request else { return }
            request = nil
            if WebRTCRoute.claims(head.path) {
                answerWebRTC(context, head, body: body)
            } else {
                answer(context, head)
            }
            body = ByteBuffer()
        }
    }

    // MARK: WHIP and WHEP

    /// CORS for WHIP/WHEP: pages of the allowed origins (and the server's own) may call them and read Location.
    private func corsHeaders(_ head: HTTPRequestHead) -> [(String, String)] {
        guard let origin = head.headers["Origin"].first, origins.allows(head) else { return [] }
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Expose-Headers", "Location, ETag, Link, WWW-Authenticate")]
    }

    private func answerWebRTC(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, body: ByteBuffer?) {
        let route: WebRTCRoute
        switch WebRTCRoute.parse(head.path) {
        case .success(let r): route = r
        case .failure(.notFound(let why)): return respond(context, head, .notFound, text: "not found: \(why)\n")
        case .failure(.badID(let why)): return respond(context, head, .badRequest, text: "invalid_id: \(why)\n")
        }
        guard let gateway else {
            return respond(context, head, .notFound, text: "not found: \(head.path)\n")
        }
        let cors = corsHeaders(head)
        if head.method == .OPTIONS {
            if head.headers["Origin"].first != nil && cors.isEmpty {
                let origin = head.headers["Origin"].first ?? ""
                return respond(context, head, .forbidden, text: "origin \(origin) may not use WHIP/WHEP here (serve --web-origin)\n")
            }
            var headers = cors + [("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS"),
                                  ("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match"),
                                  ("Access-Control-Max-Age", "600")]
            if case .endpoint = route { headers.append(("Accept-Post", "application/sdp")) }
            return HTTPResponse.send(context, to: head, status: .noContent, type: nil, body: [], headers: headers)
        }
        if head.headers["Origin"].first != nil && cors.isEmpty {
            let origin = head.headers["Origin"].first ?? ""
            return respond(context, head, .forbidden, text: "origin \(origin) may not use WHIP/WHEP here (serve --web-origin)\n")
        }
        guard let body else {
            return respond(context, head, .payloadTooLarge,
                           text: "bad_request: the body is larger than \(WebRTCGateway.maximumOfferBytes >> 10) KiB\n")
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: WebRTCGateway.Response.self)
        promise.completeWithTask {
            await gateway.handle(method: head.method, route: route, headers: head.headers, body: body)
        }
        promise.futureResult.whenSuccess { response in
            let (handler, context) = loopBound.value
            HTTPResponse.send(context, to: head, status: response.status, type: response.type, body: response.body,
                              headers: cors + response.headers + [("Cache-Control", "no-store")])
            _ = handler
        }
    }

    // MARK: the room page

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let path = head.path
        if path == WebListener.webSocketPath {
            // The upgrader let this one through: either the origin is not allowed or it is no upgrade at all.
            if !origins.allows(head) {
                let origin = head.headers["Origin"].first ?? ""
                respond(context, head, .forbidden, text: "origin \(origin) may not open the room WebSocket (serve --web-origin)\n")
            } else {
                respond(context, head, .upgradeRequired, text: "GET /ws needs a WebSocket upgrade\n")
            }
            return
        }
        guard head.method == .GET || head.method == .HEAD else {
            respond(context, head, .methodNotAllowed, text: "only GET and HEAD\n")
            return
        }
        if path == "/server.json" {
            // What the page asks before it picks a mode: WebRTC only where the server takes it.
            let webrtc = gateway?.takesSessions ?? false
            respond(context, head, .ok, type: "application/json", body: Array("{\"webrtc\":\(webrtc)}\n".utf8))
            return
        }
        if path == "/favicon.ico" {
            respond(context, head, .noContent, type: nil, body: [])
            return
        }
        guard let asset = Self.assets[path] else {
            respond(context, head, .notFound, text: "not found: \(path)\n")
            return
        }
        respond(context, head, .ok, type: asset.type, body: asset.bytes)
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, text: String) {
        respond(context, head, status, type: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus,
                         type: String?, body: [UInt8]) {
        HTTPResponse.send(context, to: head, status: status, type: type, body: body,
                          headers: [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    }
}
