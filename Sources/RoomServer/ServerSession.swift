import NIOConcurrencyHelpers
import NIOCore
import RoomAuth
import RoomProtocol
import RoomRTP
import RTP

/// One connection on the server.
///
/// Two kinds of state live here, each with one owner: the login fields (`login`, `published`, `playing`)
/// are read and written only by `RoomRegistry` under its lock; the media delivery fields are touched only
/// on the connection's event loop.
final class ServerSession: @unchecked Sendable {
    struct Login {
        var appID: UInt32
        var roomID: String
        var user: UserInfo
        var userStatus: Bool
        /// Wants room_sound_level_update.
        var soundLevels = false
        var sessionID: String
        /// User events numbered up to this one happened before this login (its answer listed the members).
        var userEventsAfter: UInt64 = 0
    }

    /// What the session's credentials allow: set at login, replaced by renew_token.
    struct Grant {
        /// The token's payload; nil for AppSign and anonymous logins (everything allowed).
        var payload: TokenPayload?
        /// When the token expires (unix seconds); nil when it never does.
        var expiresAt: Int64?
    }

    let id: UInt64
    let channel: Channel
    var eventLoop: EventLoop { channel.eventLoop }
    let slowConsumerTimeout: TimeAmount
    /// When media waiting for this connection's socket is dropped (video to the next keyframe, audio last).
    let dropPolicy: MediaDropPolicy
    /// The nonce of the server's hello to this connection; AppSign logins sign it.
    let helloNonce: String
    let metrics: ServerMetrics
    /// A WHIP/WHEP member's session, which has no media path but its UDP sessions: when one of them fails or
    /// closes (the browser left), the session ends (`RoomRegistry.mediaEnded`). Set before it logs in.
    var endsWithMedia = false

    // Owned by RoomRegistry (under its lock).
    var login: Login?
    var grant = Grant()
    /// token_will_expire and expiry timers of the current token.
    var tokenTimers: [Scheduled<Void>] = []
    var published: [String: LiveStream] = [:]
    var playing: Set<String> = []
    var ended = false
    /// The connection closed; the session waits (grace period) to be resumed by a new connection.
    var detachedTimer: Scheduled<Void>?

    /// Plays whose media goes over UDP, by stream id (set under the registry lock, read on the loop).
    private let udpPlays = NIOLockedValueBox<[String: UDPMediaListener.Session]>([:])
    /// The layer each play asked for (layered streams; big when absent), set under the registry lock.
    private let playLayers = NIOLockedValueBox<[String: VideoLayerChoice]>([:])

    func setPlayLayer(_ streamID: String, _ layer: VideoLayerChoice) { playLayers.withLockedValue { $0[streamID] = layer } }
    func playLayer(_ streamID: String) -> VideoLayerChoice { playLayers.withLockedValue { $0[streamID] } ?? .big }

    /// Sets (nil: removes) a play's UDP session; returns whether it had one.
    @discardableResult
    func setUDPPlay(_ streamID: String, _ udp: UDPMediaListener.Session?) -> Bool {
        let old = udpPlays.withLockedValue { plays in
            defer { plays[streamID] = udp }
            return plays[streamID]
        }
        if old !== udp { old?.close() }
        return old != nil
    }

    /// Whether this session's play of `streamID` takes its audio as Opus made from the stream's AAC (its UDP
    /// answer gave audio in Opus).
    func takesOpus(of streamID: String, streamCodec: String) -> Bool {
        guard let udp = udpPlays.withLockedValue({ $0[streamID] }) else { return false }
        return OpusBranch.needed(sent: udp.parameters.sendTracks, streamCodec: streamCodec)
    }

    /// How many plays of this session have a UDP session (a login holds at most `RoomRegistry.maxUDPSessions`).
    var udpPlayCount: Int { udpPlays.withLockedValue { $0.count } }

    func closeUDPPlays() {
        let all = udpPlays.withLockedValue { plays in
            defer { plays.removeAll() }
            return Array(plays.values)
        }
        for udp in all { udp.close() }
    }

    // Owned by the event loop.
    /// The UDP session of each stream handle delivered over UDP (from `udpPlays` when delivery starts), and
    /// the kinds it carries: those its answer gave the stream's codec (the rest go on the connection), and
    /// whether its audio is the stream's AAC made Opus (it takes the transcoded frames, not the AAC ones).
    private var udpByHandle: [UInt32: (session: UDPMediaListener.Session, kinds: Set<TrackKind>, opus: Bool)] = [:]
    /// Where media writes and flushes enter the pipeline (see `attachMediaPath`); the channel until then.
    private var mediaContext: ChannelHandlerContext?
    /// Whether media written here bypasses the byte-counting handler, so the fan-out counts it.
    private var countsMediaBytes = false
    /// The channel's writability, kept by the connection handler (a plain read instead of an atomic one).
    var isWritable = true
    /// Media written since the last flush.
    private var unflushed = false
    private var needsKeyframe: [UInt32: Bool] = [:]
    /// Per stream handle (on the loop): the layer delivered, and one asked for that starts at its next
    /// keyframe, with the description the player gets just before it.
    private var layers: [UInt32: LayerDelivery] = [:]
    struct LayerDelivery {
        var current: VideoLayerChoice
        var pending: VideoLayerChoice?
        var announcement: ControlMessage?
        /// A keyframe of the current layer was skipped for the pending one; a second one gives up on it.
        var skippedKeyframe = false
    }
    /// Per play: frames dropped because this downlink could not take them, and how many the player was told of.
    private var linkDrops: [UInt32: (dropped: Int, told: Int)] = [:]
    /// When delivery of each stream started, until its first frame is written (join time).
    private var joinStarted: [UInt32: NIODeadline] = [:]
    /// Since when the connection has been backed up (not writable, or media waiting past the slow-consumer limit).
    private var backedUpSince: NIODeadline?
    /// What was written and the kernel has not taken, in time (with TCP_NOTSENT_LOWAT the kernel keeps only a
    /// little unsent, so what waits is in the channel's buffer, which `bufferedWritableBytes` tells).
    private var backlog = SendBacklog()
    private(set) var droppedFrames = 0
    private var closing = false

    init(id: UInt64, channel: Channel, slowConsumerTimeout: TimeAmount, helloNonce: String,
         dropPolicy: MediaDropPolicy = MediaDropPolicy(), metrics: ServerMetrics = .disabled) {
        self.id = id
        self.dropPolicy = dropPolicy
        self.metrics = metrics
        self.channel = channel
        self.slowConsumerTimeout = slowConsumerTimeout
        self.helloNonce = helloNonce
    }

    /// Sends an error answer to request `id`.
    func refuse(_ id: UInt32?, _ code: RoomErrorCode, _ message: String) {
        send(.error(ErrorMessage(id: id, code: code, message: message)))
    }

    /// Sends a control message. Always through the loop's task queue, even on the loop: everything sent to a
    /// session (control and media) then keeps the order it was queued in, and a write that fails and closes
    /// the channel never re-enters the registry while it holds its lock.
    func send(_ message: ControlMessage) {
        send(encoded: message.frame(allocator: channel.allocator))
    }

    /// Sends a control message already encoded: an event going to every member of a room is encoded once.
    /// Messages queued together go out in one write: the flush is queued behind them, once per batch
    /// (a thousand joins make a million events; written one syscall each they held every login back).
    func send(encoded frame: ByteBuffer) {
        eventLoop.execute { [self] in
            backlog.wroteUntimed(frame.readableBytes)
            channel.write(frame, promise: nil)
            guard !controlFlushQueued else { return }
            controlFlushQueued = true
            eventLoop.execute { [self] in
                controlFlushQueued = false
                channel.flush()
            }
        }
    }

    /// A flush of control messages is queued on the loop (touched on the loop only).
    private var controlFlushQueued = false

    /// Tells the peer why the session ends, then closes the connection once that is written, or after a
    /// second if the peer does not take it (a stalled reader never would).
    func end(_ code: RoomErrorCode, reason: String) {
        let frame = ControlMessage.sessionEnded(SessionEnded(code: code, reason: reason)).frame(allocator: channel.allocator)
        let channel = self.channel
        endedByServer.withLockedValue { $0 = true }
        eventLoop.execute {
            channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
    }

    /// The server ended this session (kicked, expired, slow): when its connection closes it leaves at once,
    /// with no reconnect grace.
    let endedByServer = NIOLockedValueBox(false)

    // MARK: media delivery (on the event loop)

    /// Media frames are written many times a second to every subscriber: they enter the pipeline at `context`
    /// (the handler next to the head on a TCP connection, so nothing between it and the socket is traversed
    /// per frame) instead of at its tail. `countsBytes`: the frames bypass `ByteCountingHandler`, so the
    /// fan-out counts them.
    func attachMediaPath(_ context: ChannelHandlerContext, countsBytes: Bool) {
        eventLoop.preconditionInEventLoop()
        mediaContext = context
        countsMediaBytes = countsBytes
    }

    /// Prepares delivery of a stream: video waits for its next keyframe.
    func startDelivery(handle: UInt32, streamID: String, codecs: [TrackKind: String] = [:]) {
        eventLoop.preconditionInEventLoop()
        udpByHandle[handle] = udpPlays.withLockedValue { $0[streamID] }.map { udp in
            var kinds = Set(TrackKind.allCases.filter { kind in
                udp.parameters.sendTracks.contains { $0.codec.kind == kind.rtpKind && codecs[kind].map($0.codec.carries) ?? true }
            })
            let opus = OpusBranch.needed(sent: udp.parameters.sendTracks, streamCodec: codecs[.audio])
            if opus { kinds.insert(.audio) }
            return (udp, kinds, opus)
        }
        needsKeyframe[handle] = true
        linkDrops[handle] = nil
        joinStarted[handle] = .now()
        layers[handle] = LayerDelivery(current: playLayer(streamID))
    }

    /// Switches the layer delivered for `handle` at the next keyframe of `layer`.
    func switchLayer(handle: UInt32, to layer: VideoLayerChoice, announcement: ControlMessage) {
        eventLoop.preconditionInEventLoop()
        guard var delivery = layers[handle] else { return }
        if delivery.current == layer {
            delivery.pending = nil
        } else {
            delivery.pending = layer
            delivery.announcement = announcement
            delivery.skippedKeyframe = false
        }
        layers[handle] = delivery
    }

    /// Whether a video frame is of the layer this play gets now; switches at the pending layer's keyframe
    /// (writing its announcement first). A keyframe of the current layer is skipped while a switch waits
    /// (the other layer's, at the same time, comes next), once.
    private func takesLayer(_ frame: CachedFrame, handle: UInt32) -> Bool {
        guard frame.isVideo, var d = layers[handle] else { return true }
        let layer: VideoLayerChoice = frame.isSmallLayer ? .small : .big
        if let pending = d.pending {
            if layer == pending && frame.isKeyframe {
                if let announcement = d.announcement {
                    let note = announcement.frame(allocator: channel.allocator)
                    writeMedia(note)
                    backlog.wroteUntimed(note.readableBytes)
                    unflushed = true
                }
                layers[handle] = LayerDelivery(current: pending)
                return true
            }
            if layer == d.current && frame.isKeyframe {
                if !d.skippedKeyframe {
                    d.skippedKeyframe = true
                    layers[handle] = d
                    needsKeyframe[handle] = true
                    return false
                }
                layers[handle] = LayerDelivery(current: d.current)   // the other layer did not come: stay
            }
        }
        return layer == d.current
    }

    func stopDelivery(handle: UInt32) {
        eventLoop.preconditionInEventLoop()
        needsKeyframe[handle] = nil
        udpByHandle[handle] = nil
        joinStarted[handle] = nil
        layers[handle] = nil
        linkDrops[handle] = nil
        flushMedia()   // audio written to ride with a video frame that will not come now
    }

    /// What `deliver` did with a frame.
    struct Delivery {
        var wrote = false
        /// Bytes written past the byte-counting handler, for the fan-out to count (0 when that handler saw them).
        var uncountedBytes = 0
        /// This frame made the session start waiting for a keyframe (after a drop).
        var wantsKeyframe = false
    }

    /// Writes one media frame unless the connection is backed up: then video is dropped up to the next
    /// keyframe and counted; a connection backed up for longer than the limit is closed (slow_consumer).
    /// With `flush`, what was written (this frame and any held audio) goes to the socket now.
    @discardableResult
    func deliver(_ frame: CachedFrame, handle: UInt32, flush: Bool) -> Delivery {
        let result = write(frame, handle: handle)
        if flush { flushMedia() }
        return result
    }

    /// Writes (without flushing) next to the pipeline's head when the connection handler gave its context.
    private func writeMedia(_ buffer: ByteBuffer) {
        if let mediaContext { mediaContext.write(NIOAny(buffer), promise: nil) } else { channel.write(buffer, promise: nil) }
    }

    /// Flushes media written since the last flush, if any.
    func flushMedia() {
        guard unflushed else { return }
        unflushed = false
        if let mediaContext { mediaContext.flush() } else { channel.flush() }
    }

    /// How long the oldest media written to this connection has waited for the socket, in nanoseconds.
    func backlogAge(at now: UInt64) -> UInt64 {
        if !backlog.isEmpty, let pending = try? channel.syncOptions?.getOption(.bufferedWritableBytes) {
            backlog.pending(pending)
        }
        return backlog.age(at: now)
    }

    /// The first frame of a join is written: how long the join took (play to first frame).
    private func recordJoin(_ handle: UInt32) {
        if !joinStarted.isEmpty, let started = joinStarted.removeValue(forKey: handle) {
            metrics.joinTime.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
    }

    /// A frame of a play negotiated over UDP: sent on its RTP session under the same drop policy as the
    /// connection, its backlog the time media waits on the way to this player (in the session's pacer and
    /// in the path's queue, which the player's transport-cc feedback measures): a downlink slower than the
    /// stream drops video to the next keyframe instead of queueing seconds. Nil when the session has no
    /// track for the frame's kind and codec (the answer could not name the stream's codec): that track goes
    /// over TCP.
    private func writeUDP(_ frame: CachedFrame, handle: UInt32, waiting: Bool, to udp: UDPMediaListener.Session,
                          kinds: Set<TrackKind>) -> Delivery? {
        var body = frame.wire
        body.moveReaderIndex(forwardBy: min(body.readableBytes, 5))   // u32 length, u8 frame type
        guard let header = try? MediaFrameHeader.read(from: &body) else { return Delivery() }
        guard kinds.contains(header.track) else { return nil }
        let age = udp.backlogNanoseconds
        switch dropPolicy.decide(video: frame.isVideo, keyframe: frame.isKeyframe, waitingForKeyframe: waiting, backlogAge: age) {
        case .drop(let startsWaiting):
            return drop(frame, handle: handle, waiting: waiting, startsWaiting: startsWaiting,
                        backedUp: age > dropPolicy.videoLimitNanoseconds)
        case .send:
            if frame.isVideo && waiting { needsKeyframe[handle] = false }
        }
        recordJoin(handle)
        tellDrops(handle)
        udp.send(RTPFrame(header: header, payload: body))
        return Delivery(wrote: true)
    }

    /// A frame not sent. One skipped while waiting for the first keyframe of a join (nothing sent yet, the
    /// link not backed up) is not a drop of the link's; one skipped while waiting for the keyframe after a
    /// drop is.
    private func drop(_ frame: CachedFrame, handle: UInt32, waiting: Bool, startsWaiting: Bool, backedUp: Bool) -> Delivery {
        droppedFrames += 1
        let joining = joinStarted[handle] != nil
        if !(joining && waiting && frame.isVideo && !backedUp) {
            metrics.framesDropped.increment()
            linkDrops[handle, default: (0, 0)].dropped += 1
        }
        if frame.isVideo { needsKeyframe[handle] = true }
        return Delivery(wantsKeyframe: startsWaiting)
    }

    /// The player learns of what its downlink lost, in line with the media, before the next frame it gets.
    private func tellDrops(_ handle: UInt32) {
        guard let drops = linkDrops[handle], drops.dropped > drops.told else { return }
        linkDrops[handle] = (drops.dropped, drops.dropped)
        let note = ControlMessage.playFramesDropped(PlayFramesDropped(streamHandle: handle, framesDropped: drops.dropped))
            .frame(allocator: channel.allocator)
        writeMedia(note)
        backlog.wroteUntimed(note.readableBytes)
        unflushed = true
    }

    private func write(_ frame: CachedFrame, handle: UInt32) -> Delivery {
        guard !closing, needsKeyframe[handle] != nil, takesLayer(frame, handle: handle), let waiting = needsKeyframe[handle] else { return Delivery() }
        // The stream's AAC, or the Opus made from it: each player takes the one its session carries.
        if !frame.isVideo && frame.isTranscoded != (udpByHandle[handle]?.opus ?? false) { return Delivery() }
        if let udp = udpByHandle[handle], let delivery = writeUDP(frame, handle: handle, waiting: waiting, to: udp.session, kinds: udp.kinds) {
            return delivery
        }
        let now = NIODeadline.now()
        let age = backlogAge(at: now.uptimeNanoseconds)
        if !isWritable || age > UInt64(slowConsumerTimeout.nanoseconds) {
            if let since = backedUpSince {
                if now - since > slowConsumerTimeout {
                    closing = true
                    metrics.slowConsumers.increment()
                    end(.slowConsumer, reason: "could not take media for \(slowConsumerTimeout.nanoseconds / 1_000_000_000) s, \(droppedFrames) frames dropped")
                    return Delivery()
                }
            } else {
                backedUpSince = now
            }
        } else {
            backedUpSince = nil
        }
        let decision: MediaDropPolicy.Decision = isWritable
            ? dropPolicy.decide(video: frame.isVideo, keyframe: frame.isKeyframe, waitingForKeyframe: waiting, backlogAge: age)
            : .drop(startsWaiting: frame.isVideo && !waiting)
        switch decision {
        case .drop(let startsWaiting):
            return drop(frame, handle: handle, waiting: waiting, startsWaiting: startsWaiting,
                        backedUp: !isWritable || age > dropPolicy.videoLimitNanoseconds)
        case .send:
            if frame.isVideo && waiting { needsKeyframe[handle] = false }
        }
        recordJoin(handle)
        tellDrops(handle)
        writeMedia(frame.wire)
        unflushed = true
        backlog.wrote(frame.wire.readableBytes, at: now.uptimeNanoseconds)
        return Delivery(wrote: true, uncountedBytes: countsMediaBytes ? frame.wire.readableBytes : 0)
    }
}
