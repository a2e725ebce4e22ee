import NIOCore
import NIOHTTP1

/// One whole HTTP response (head, body, end) for the server's small HTTP endpoints (the metrics scrape, the
/// room page): Content-Type and Content-Length set, the body left out for HEAD, the connection closed after
/// it unless the request keeps it alive.
enum HTTPResponse {
    static func send(_ context: ChannelHandlerContext, to head: HTTPRequestHead, status: HTTPResponseStatus, type: String?,
                     body: [UInt8], headers extra: [(String, String)] = []) {
        var headers = HTTPHeaders()
        if let type { headers.add(name: "Content-Type", value: type) }
        headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD && !body.isEmpty {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

extension HTTPRequestHead {
    /// The request's path without its query.
    var path: String { uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri }
}
