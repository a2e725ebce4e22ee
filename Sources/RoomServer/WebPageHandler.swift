import NIOCore
import NIOHTTP1

/// Serves the room page's files (embedded in the binary from `Sources/RoomServer/Web`) to plain HTTP requests.
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
    ]

    private let origins: OriginPolicy
    private var request: HTTPRequestHead?

    init(origins: OriginPolicy) {
        self.origins = origins
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
            answer(context, head)
        }
    }

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
