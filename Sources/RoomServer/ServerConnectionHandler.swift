import Foundation
import Logging
import NIOCore
import RoomProtocol

/// Turns the frames of one connection into registry calls, and forwards its media to fan-outs.
final class ServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello
        case ready
        case closed
    }

    private let registry: RoomRegistry
    private let configuration: ServerConfiguration
    private let sessionID: UInt64
    private let metrics: ServerMetrics
    private var logger: Logger
    private var state = State.awaitingHello
    private var session: ServerSession?
    /// Fan-outs of the streams this connection publishes, by stream handle (touched on this loop only).
    private var fanouts: [UInt32: StreamFanout] = [:]
    private var fanoutsByStreamID: [String: UInt32] = [:]
    private(set) var mediaFramesIgnored = 0

    /// Where media written to this connection's subscribers enters the pipeline: a handler next to the
    /// pipeline's head, skipping every handler behind it (thousands of writes a second go this way), and
    /// whether that skips a `ByteCountingHandler` (the fan-out then counts the bytes). Without one (a WebSocket,
    /// whose frames the adapter must wrap) media enters at this handler.
    struct MediaEntry {
        let handler: ChannelHandler
        let bypassesByteCounting: Bool
    }
    private let mediaEntry: MediaEntry?
    /// A WHIP/WHEP member (`LocalMember`): its session ends when its UDP media does.
    private let endsWithMedia: Bool

    init(registry: RoomRegistry, configuration: ServerConfiguration, sessionID: UInt64, logger: Logger,
         metrics: ServerMetrics = .disabled, mediaEntry: MediaEntry? = nil, endsWithMedia: Bool = false) {
        self.mediaEntry = mediaEntry
        self.endsWithMedia = endsWithMedia
        self.registry = registry
        self.metrics = metrics
        self.configuration = configuration
        self.sessionID = sessionID
        self.logger = logger
        self.logger[metadataKey: "session"] = "\(sessionID)"
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    /// Added to a connection that is already active: a WebSocket, after its HTTP upgrade.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context: context) }
    }

    /// Creates the session and sends the server's hello (once per connection).
    private func begin(context: ChannelHandlerContext) {
        guard session == nil else { return }
        let hello = Self.serverHello(configuration)
        let session = ServerSession(id: sessionID, channel: context.channel,
                                    slowConsumerTimeout: .milliseconds(Int64(configuration.slowConsumerTimeoutSeconds * 1000)),
                                    helloNonce: hello.details.nonce ?? "", dropPolicy: configuration.dropPolicy,
                                    metrics: metrics)
        session.endsWithMedia = endsWithMedia
        self.session = session
        if let mediaEntry, let entry = try? context.pipeline.syncOperations.context(handler: mediaEntry.handler) {
            session.attachMediaPath(entry, countsBytes: mediaEntry.bypassesByteCounting)
        } else {
            session.attachMediaPath(context, countsBytes: false)
        }
        session.isWritable = context.channel.isWritable
        metrics.connections.increment()
        var buffer = context.channel.allocator.buffer(capacity: 128)
        hello.write(to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    static func serverHello(_ configuration: ServerConfiguration) -> Hello {
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return Hello(details: .init(software: "rtcbox/\(RtcboxVersion.string)", maxFrameLength: configuration.maximumFrameLength, nonce: nonce))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.isWritable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        if session != nil { metrics.connections.decrement() }
        if let session { registry.disconnected(session) }
        fanouts.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            switch state {
            case .awaitingHello:
                guard frame.type == .hello else {
                    throw RoomProtocolError.unexpectedFrame("the first frame must be a hello")
                }
                let peer = try Hello.decode(payload: frame.payload)
                _ = try Self.serverHello(configuration).negotiate(with: peer)
                state = .ready
            case .ready:
                switch frame.type {
                case .media: forwardMedia(frame)
                case .control: try handleControl(ControlMessage.decode(payload: frame.payload))
                case .hello: throw RoomProtocolError.unexpectedFrame("a second hello")
                case nil: throw RoomProtocolError.unexpectedFrame("unknown frame type 0x\(String(frame.typeByte, radix: 16))")
                }
            case .closed:
                return
            }
        } catch let error as RoomProtocolError {
            if case .unknownMessageType(_, let id) = error {
                // An unknown request is answered; the connection stays usable.
                session?.send(.error(ErrorMessage(id: id, code: .badRequest, message: error.description)))
                return
            }
            fail(context: context, error)
        } catch {
            fail(context: context, RoomProtocolError.malformedControl("\(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? RoomProtocolError {
            fail(context: context, error)
        } else {
            logger.debug("connection error: \(error)")
            context.close(promise: nil)
        }
    }

    /// Sends an error frame naming the problem, then closes.
    private func fail(context: ChannelHandlerContext, _ error: RoomProtocolError) {
        guard state != .closed else { return }
        state = .closed
        logger.notice("closing connection: \(error.description)")
        let frame = ControlMessage.error(ErrorMessage(id: nil, code: error.code, message: error.description)).frame(allocator: context.channel.allocator)
        let channel = context.channel
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }

    private func handleControl(_ message: ControlMessage) throws {
        guard let session else { return }
        switch message {
        case .login(let r): registry.login(session, r)
        case .logout(let r):
            registry.logout(session, requestID: r.id)
            fanouts.removeAll()
            fanoutsByStreamID.removeAll()
        case .publish(let r):
            if let fanout = registry.publish(session, r) {
                fanouts[fanout.handle] = fanout
                fanoutsByStreamID[r.streamID] = fanout.handle
            }
        case .stopPublish(let r):
            registry.stopPublish(session, r)
            if let handle = fanoutsByStreamID.removeValue(forKey: r.streamID) { fanouts[handle] = nil }
        case .play(let r): registry.play(session, r)
        case .stopPlay(let r): registry.stopPlay(session, r)
        case .requestKeyframe(let r): registry.requestKeyframe(session, r)
        case .ping(let p): session.send(.pong(p))
        case .setRoomExtraInfo(let r): registry.setRoomExtraInfo(session, r)
        case .setStreamExtraInfo(let r): registry.setStreamExtraInfo(session, r)
        case .setStreamTracks(let r): registry.setStreamTracks(session, r)
        case .setStreamMuted(let r): registry.setStreamMuted(session, r)
        case .setPlayLayer(let r): registry.setPlayLayer(session, r)
        case .sendBroadcastMessage(let r): registry.broadcast(session, r)
        case .sendCustomCommand(let r): registry.customCommand(session, r)
        case .renewToken(let r): registry.renewToken(session, r)
        case .pong, .result, .error, .roomUserUpdate, .roomStreamUpdate, .sessionEnded, .playStarted, .playStopped,
             .keyframeRequest, .roomExtraInfoUpdate, .roomStreamExtraInfoUpdate, .roomStreamTracksUpdate, .roomStreamStateUpdate, .roomSoundLevelUpdate, .playFramesDropped, .broadcastMessage, .customCommand,
             .tokenWillExpire:
            session.send(.error(ErrorMessage(id: nil, code: .badRequest, message: "\(message.typeName) is sent by servers, not clients")))
        }
    }

    private func forwardMedia(_ frame: RawFrame) {
        var payload = frame.payload
        guard let header = try? MediaFrameHeader.read(from: &payload), let fanout = fanouts[header.streamHandle] else {
            // Media of a stream that just ended (kicked, stopped) or never started: dropped and counted.
            mediaFramesIgnored += 1
            return
        }
        metrics.mediaFramesIn.increment()
        if let level = header.soundLevel, header.track == .audio, fanout.soundLevelChanged(level), let session {
            registry.soundLevelChanged(session, handle: header.streamHandle, dBov: level)
        }
        fanout.forward(CachedFrame(wire: frame.wire, isVideo: header.track == .video, isKeyframe: header.isKeyframe, received: .now(),
                                   isSmallLayer: header.flags.contains(.smallLayer)))
    }
}
