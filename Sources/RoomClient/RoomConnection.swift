import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RoomProtocol

/// What a connection hands up to its owner, in arrival order, on its event loop.
enum ConnectionInbound: Sendable {
    case event(ControlMessage)
    case media(MediaFrame)
    case closed(RoomClientError?)
}

/// One TCP connection to a room server: hello exchange, request ids and their results, and the rest
/// (events, media) passed to `onInbound`.
final class RoomConnection: Sendable {
    let channel: Channel
    let serverHello: Hello
    private let pending: NIOLockedValueBox<PendingRequests>

    struct PendingRequests {
        var nextID: UInt32 = 1
        var promises: [UInt32: EventLoopPromise<ResultMessage>] = [:]
        var closedReason: RoomClientError?
    }

    private init(channel: Channel, serverHello: Hello, pending: NIOLockedValueBox<PendingRequests>) {
        self.channel = channel
        self.serverHello = serverHello
        self.pending = pending
    }

    static func connect(_ configuration: ClientConfiguration, group: EventLoopGroup,
                        onInbound: @escaping @Sendable (ConnectionInbound) -> Void) async throws -> RoomConnection {
        let loop = group.next()
        let ready = loop.makePromise(of: Hello.self)
        let pending = NIOLockedValueBox(PendingRequests())
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(configuration.connectTimeoutSeconds * 1000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // The kernel keeps little unsent, so what waits for a slow uplink is in the publisher's own queue,
            // where it is measured in time and dropped (StreamPublisher).
            .channelOption(.tcpOption(.tcp_notsent_lowat), value: 16 << 10)
            .channelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(RoomFrameDecoder(maximumFrameLength: configuration.maximumFrameLength)))
                    try channel.pipeline.syncOperations.addHandler(
                        ClientChannelHandler(ready: ready, pending: pending, onInbound: onInbound))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            ready.fail(error)
            throw RoomClientError.unreachable(host: configuration.host, port: configuration.port, failure: NetworkFailure(error))
        }
        let hello: Hello
        do {
            hello = try await withTimeout(seconds: configuration.requestTimeoutSeconds, on: loop, ready.futureResult, what: "hello")
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return RoomConnection(channel: channel, serverHello: hello, pending: pending)
    }

    /// Sends a request built with a fresh id and waits for its result; a server error throws `.refused`.
    func request(timeoutSeconds: Double, _ build: (UInt32) -> ControlMessage) async throws -> ResultMessage {
        let promise = channel.eventLoop.makePromise(of: ResultMessage.self)
        let (id, closed): (UInt32, RoomClientError?) = pending.withLockedValue { p in
            if let reason = p.closedReason { return (0, reason) }
            let id = p.nextID
            p.nextID = p.nextID == UInt32.max ? 1 : p.nextID + 1
            p.promises[id] = promise
            return (id, nil)
        }
        if let closed {
            promise.fail(closed)
            throw closed
        }
        let message = build(id)
        channel.writeAndFlush(message.frame(allocator: channel.allocator), promise: nil)
        return try await withTimeout(seconds: timeoutSeconds, on: channel.eventLoop, promise.futureResult, what: message.typeName)
    }

    func send(_ message: ControlMessage) {
        channel.writeAndFlush(message.frame(allocator: channel.allocator), promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

}

/// Waits for a future, failing with `.timedOut` after `seconds`.
func withTimeout<T: Sendable>(seconds: Double, on loop: EventLoop, _ future: EventLoopFuture<T>, what: String) async throws -> T {
    let timeout = loop.makePromise(of: T.self)
    let task = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
        timeout.fail(RoomClientError.timedOut(what))
    }
    future.cascade(to: timeout)
    defer { task.cancel() }
    return try await timeout.futureResult.get()
}

/// The channel handler of a client connection.
final class ClientChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = ByteBuffer

    private let ready: EventLoopPromise<Hello>
    private let pending: NIOLockedValueBox<RoomConnection.PendingRequests>
    private let onInbound: @Sendable (ConnectionInbound) -> Void
    private var helloDone = false
    private var endReason: RoomClientError?

    init(ready: EventLoopPromise<Hello>, pending: NIOLockedValueBox<RoomConnection.PendingRequests>,
         onInbound: @escaping @Sendable (ConnectionInbound) -> Void) {
        self.ready = ready
        self.pending = pending
        self.onInbound = onInbound
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        Hello(details: .init(software: "rtcbox")).write(to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            let decoded = try RoomFrame(frame)
            if !helloDone {
                switch decoded {
                case .hello(let hello):
                    _ = try Hello(details: .init(software: "rtcbox")).negotiate(with: hello)
                    helloDone = true
                    ready.succeed(hello)
                case .control(.error(let e)):
                    throw RoomClientError.refused(e)
                default:
                    throw RoomClientError.protocolViolation("the server's first frame is not a hello")
                }
                return
            }
            switch decoded {
            case .hello:
                throw RoomClientError.protocolViolation("a second hello")
            case .media(let m):
                onInbound(.media(m))
            case .control(.result(let r)):
                complete(r.id, .success(r))
            case .control(.error(let e)):
                if let id = e.id {
                    complete(id, .failure(RoomClientError.refused(e)))
                } else {
                    endReason = .refused(e)
                    onInbound(.event(.error(e)))
                }
            case .control(.sessionEnded(let s)):
                endReason = .sessionEnded(s)
                onInbound(.event(.sessionEnded(s)))
            case .control(let message):
                onInbound(.event(message))
            }
        } catch let error as RoomClientError {
            fail(context: context, error)
        } catch let error as RoomProtocolError {
            fail(context: context, .protocolViolation(error.description))
        } catch {
            fail(context: context, .protocolViolation("\(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let reason: RoomClientError
        if let e = error as? RoomProtocolError {
            reason = .protocolViolation(e.description)
        } else {
            reason = .connectionLost(NetworkFailure(error).words)
        }
        fail(context: context, reason)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = endReason ?? .connectionLost("the server closed the connection")
        ready.fail(reason)
        let promises = pending.withLockedValue { p -> [EventLoopPromise<ResultMessage>] in
            p.closedReason = reason
            defer { p.promises.removeAll() }
            return Array(p.promises.values)
        }
        for p in promises { p.fail(reason) }
        onInbound(.closed(reason))
        context.fireChannelInactive()
    }

    private func complete(_ id: UInt32, _ result: Result<ResultMessage, Error>) {
        let promise = pending.withLockedValue { $0.promises.removeValue(forKey: id) }
        promise?.completeWith(result)
    }

    private func fail(context: ChannelHandlerContext, _ error: RoomClientError) {
        if endReason == nil { endReason = error }
        ready.fail(error)
        context.close(promise: nil)
    }
}
