#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RoomProtocol

/// A room member inside the server process: the server's end of a WHIP or WHEP session speaks the room
/// protocol like any client, over one end of a Unix socket pair whose other end is an ordinary room connection
/// (`ServerConnectionHandler`). Every room rule (credentials, unique ids, kicks, events, limits) then holds for
/// WebRTC clients exactly as it does for rtcbox clients, with no second implementation of them.
final class LocalMember: Sendable {
    /// A request the server refused: its error code and message.
    struct Refusal: Error, CustomStringConvertible {
        var code: RoomErrorCode
        var message: String
        var description: String { "\(code.name): \(message)" }
    }

    let channel: Channel
    private let handler: LocalMemberHandler

    private init(channel: Channel, handler: LocalMemberHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// Opens the pair: `attachServerEnd` makes a room connection of one descriptor (on the server's loops),
    /// this member takes the other. Returns once the server's hello came.
    static func connect(on loop: EventLoop, maximumFrameLength: UInt32,
                        attachServerEnd: (NIOBSDSocket.Handle) -> EventLoopFuture<Channel>) async throws -> LocalMember {
        var fds: [Int32] = [-1, -1]
        #if canImport(Glibc)
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw Refusal(code: .internalError, message: "socketpair: \(String(cString: strerror(errno)))")
        }
        #endif
        let serverEnd: Channel
        do {
            serverEnd = try await attachServerEnd(fds[0]).get()
        } catch {
            close(fds[0])
            close(fds[1])
            throw Refusal(code: .internalError, message: "the room connection of a local member: \(error)")
        }
        let handler = LocalMemberHandler(ready: loop.makePromise(of: Void.self), closed: loop.makePromise(of: SessionEnded?.self))
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(RoomFrameDecoder(maximumFrameLength: maximumFrameLength)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .withConnectedSocket(fds[1]).get()
        } catch {
            close(fds[1])
            serverEnd.close(promise: nil)
            throw Refusal(code: .internalError, message: "a local member's end of its pair: \(error)")
        }
        try await handler.ready.futureResult.get()
        return LocalMember(channel: channel, handler: handler)
    }

    /// Sends a request with a fresh id and waits for its result; the server's error throws a `Refusal`.
    func request(timeoutSeconds: Double = 10, _ build: @escaping @Sendable (UInt32) -> ControlMessage) async throws -> ResultMessage {
        let handler = self.handler
        let loop = channel.eventLoop
        return try await loop.flatSubmit { handler.request(timeoutSeconds: timeoutSeconds, build) }.get()
    }

    /// Completes when the connection closed, with the server's `session_ended` when it sent one (a kick, an
    /// expired token, media that ended).
    var closed: EventLoopFuture<SessionEnded?> { handler.closed.futureResult }

    /// Logs out (when still in a room) and closes the connection.
    func leave() async {
        _ = try? await request { .logout(PlainRequest(id: $0)) }
        try? await channel.close()
    }
}

/// The member's end of the pair: hello, results by request id, session_ended. Its state belongs to its loop.
private final class LocalMemberHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = ByteBuffer

    let ready: EventLoopPromise<Void>
    let closed: EventLoopPromise<SessionEnded?>
    private var context: ChannelHandlerContext?
    private var nextID: UInt32 = 1
    private var pending: [UInt32: EventLoopPromise<ResultMessage>] = [:]
    private var ended: SessionEnded?
    private var isClosed = false
    private var helloDone = false

    init(ready: EventLoopPromise<Void>, closed: EventLoopPromise<SessionEnded?>) {
        self.ready = ready
        self.closed = closed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        Hello(details: .init(software: "rtcbox/\(RtcboxVersion.string) local")).write(to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func request(timeoutSeconds: Double, _ build: (UInt32) -> ControlMessage) -> EventLoopFuture<ResultMessage> {
        guard let context, !isClosed else {
            return closed.futureResult.eventLoop.makeFailedFuture(
                LocalMember.Refusal(code: .internalError, message: ended.map { "the session ended: \($0.reason)" } ?? "the local connection is closed"))
        }
        let id = nextID
        nextID = nextID == .max ? 1 : nextID + 1
        let promise = context.eventLoop.makePromise(of: ResultMessage.self)
        pending[id] = promise
        let timeout = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutSeconds * 1000))) { [self] in
            pending.removeValue(forKey: id)?.fail(LocalMember.Refusal(code: .internalError, message: "the server did not answer in \(timeoutSeconds) s"))
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        context.writeAndFlush(wrapOutboundOut(build(id).frame(allocator: context.channel.allocator)), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.type {
        case .hello:
            if !helloDone, (try? Hello.decode(payload: frame.payload)) != nil {
                helloDone = true
                ready.succeed()
            }
        case .control:
            guard let message = try? ControlMessage.decode(payload: frame.payload) else { return }
            switch message {
            case .result(let r):
                pending.removeValue(forKey: r.id)?.succeed(r)
            case .error(let e):
                guard let id = e.id, let promise = pending.removeValue(forKey: id) else { return }
                promise.fail(LocalMember.Refusal(code: RoomErrorCode(rawValue: e.code) ?? .internalError, message: e.message))
            case .sessionEnded(let s):
                ended = s
            default:
                break
            }
        case .media, nil:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        let reason = ended.map { "the session ended: \($0.name): \($0.reason)" } ?? "the local connection closed"
        if !helloDone {
            helloDone = true
            ready.fail(LocalMember.Refusal(code: .internalError, message: reason))
        }
        for promise in pending.values { promise.fail(LocalMember.Refusal(code: ended.flatMap { RoomErrorCode(rawValue: $0.code) } ?? .internalError, message: reason)) }
        pending.removeAll()
        closed.succeed(ended)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
