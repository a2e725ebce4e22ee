import NIOCore
import NIOWebSocket
import RoomProtocol

/// Speaks the room protocol over a WebSocket: one message per frame of the TCP protocol, without its length
/// and type byte. Hellos and control messages are text messages (a hello is `{"type":"hello","version":…}`),
/// media frames are binary messages (the 30-byte media header, then the payload).
///
/// Inbound messages become the same `RawFrame`s the TCP decoder produces, outbound frames (which the session
/// and the fan-outs write in the TCP form) are unwrapped again, so `ServerConnectionHandler` serves both
/// transports unchanged. A media frame written to a WebSocket player is a slice of the publisher's bytes: no copy.
final class WebSocketRoomAdapter: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = RawFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var helloSeen = false
    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            var payload = frame.unmaskedData
            if !helloSeen && frame.opcode == .text {
                helloSeen = true
                do {
                    let hello = try Hello.decode(jsonText: payload)
                    var wire = context.channel.allocator.buffer(capacity: 64)
                    hello.write(to: &wire)
                    context.fireChannelRead(wrapInboundOut(Self.rawFrame(wire)))
                } catch {
                    context.fireErrorCaught(error)
                }
                return
            }
            let type: FrameType = frame.opcode == .text ? .control : .media
            var wire = context.channel.allocator.buffer(capacity: payload.readableBytes + 5)
            wire.writeFrame(type) { $0.writeBuffer(&payload) }
            context.fireChannelRead(wrapInboundOut(Self.rawFrame(wire)))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            closeConnection(context: context, code: .normalClosure)
        case .pong, .continuation:
            break
        default:
            closeConnection(context: context, code: .protocolError)
        }
    }

    private static func rawFrame(_ wire: ByteBuffer) -> RawFrame {
        let typeByte = wire.getInteger(at: wire.readerIndex + 4, as: UInt8.self) ?? 0
        let payload = wire.getSlice(at: wire.readerIndex + 5, length: wire.readableBytes - 5) ?? ByteBuffer()
        return RawFrame(typeByte: typeByte, payload: payload, wire: wire)
    }

    /// Unwraps TCP-form frames (one write may hold several) into WebSocket messages.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        var messages: [WebSocketFrame] = []
        while let raw = try? RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: .max) {
            switch raw.type {
            case .hello:
                guard let hello = try? Hello.decode(payload: raw.payload) else { continue }
                messages.append(WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(bytes: hello.jsonText())))
            case .control:
                messages.append(WebSocketFrame(fin: true, opcode: .text, data: raw.payload))
            case .media:
                messages.append(WebSocketFrame(fin: true, opcode: .binary, data: raw.payload))
            case nil:
                continue
            }
        }
        guard let last = messages.popLast() else {
            promise?.succeed()
            return
        }
        for m in messages { context.write(wrapOutboundOut(m), promise: nil) }
        context.write(wrapOutboundOut(last), promise: promise)
    }

    /// Sends a close frame (once) and closes when it is written.
    private func closeConnection(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !closeSent else {
            context.close(promise: nil)
            return
        }
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // The session closes after its error or session_ended is written: say goodbye the WebSocket way first.
        if mode == .all && !closeSent && context.channel.isActive {
            closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }
}
