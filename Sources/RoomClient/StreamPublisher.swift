import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol
import RoomRTP
import RTP

/// The sending end of one published stream. `send` may be called from any thread (a pipeline's);
/// when the connection is backed up, video is dropped up to the next keyframe and audio is dropped.
public final class StreamPublisher: Sendable {
    public let streamID: String
    private let state: NIOLockedValueBox<SendState>

    struct SendState {
        /// The connection and handle frames go to; replaced after a reconnect (nil while reconnecting).
        var channel: Channel?
        var handle: UInt32
        var waitingForKeyframe = false
        var keyframeRequested = false
        var stopped = false
        var counters = StreamCounters()
        /// What was written and the kernel has not taken (TCP_NOTSENT_LOWAT keeps the kernel's part small).
        var backlog = SendBacklog()
        var link = LinkMeter()
        /// The encoder's video bit rate the traffic controller asks for (nil: as configured).
        var videoBitRate: Int?
        var controller: TrafficController?
        /// The tracks as they are sent now (what a republish after a reconnect describes).
        var tracks: [TrackInfo]
        /// Media over UDP: the socket, and whether frames go on it (once connected; TCP until then, or for
        /// good after it failed, unless UDP was required).
        var udp: UDPMediaSocket?
        var udpConnected = false
        /// `--transport udp`: frames never go over TCP.
        var udpRequired = false
        /// The UDP session's counters at the last traffic control step.
        var rtpLink = RTPLinkMeter()
        /// Tracks whose frames are not sent (camera or microphone muted); the stream stays live.
        var muted: Set<TrackKind> = []
        var waitingForUnmuteKeyframe = false
        /// The last sound level measured of what is captured (-dBov): on every audio frame sent from then on.
        var soundLevel: UInt8?
        var onSoundLevel: (@Sendable (UInt8) -> Void)?
    }

    /// When frames are dropped instead of queued for a slow link.
    static let dropPolicy = MediaDropPolicy(videoLimitMilliseconds: 250, audioLimitMilliseconds: 300)

    init(streamID: String, handle: UInt32, channel: Channel, tracks: [TrackInfo], trafficControl: TrafficController.Settings? = nil) {
        self.streamID = streamID
        var s = SendState(channel: channel, handle: handle, tracks: tracks)
        s.controller = trafficControl.map { TrafficController(settings: $0) }
        self.state = NIOLockedValueBox(s)
    }

    /// Whether traffic control steers this stream's encoder.
    public var trafficControlSettings: TrafficController.Settings? { state.withLockedValue { $0.controller?.settings } }

    /// One step of traffic control: the link's figures since the last step, and what the controller did with
    /// them (the encoder picks a new bit rate up from `videoBitRate`).
    func controlTick(rttMs: Double?, deliveredRate: Double?) -> (LinkSample, TrafficController.Action?) {
        let now = NIODeadline.now().uptimeNanoseconds
        return state.withLockedValue { s in
            var sample = s.link.sample(now: now, backlogAge: s.backlog.age(at: now))
            sample.rttMs = rttMs
            sample.deliveryRate = deliveredRate
            guard s.channel != nil, var c = s.controller else { return (sample, nil) }
            if s.udpConnected, let udp = s.udp?.driver.peerStatistics {
                // On UDP the room connection carries no media: its figures say nothing of the media's path.
                let udpSample = s.rtpLink.sample(seconds: sample.seconds, statistics: udp, droppedFrames: sample.droppedFrames)
                let action = c.update(udpSample)
                s.controller = c
                if let action { s.videoBitRate = action.videoBitRate }
                return (udpSample, action)
            }
            let action = c.update(sample)
            s.controller = c
            if let action { s.videoBitRate = action.videoBitRate }
            return (sample, action)
        }
    }

    public var handle: UInt32 { state.withLockedValue { $0.handle } }

    /// The connection dropped: frames are dropped (and counted) until `rebind`.
    func suspend() { state.withLockedValue { $0.channel = nil } }

    /// Sends to a new connection after a reconnect, starting at a keyframe the encoder is asked for.
    func rebind(channel: Channel, handle: UInt32) {
        let udp = state.withLockedValue { s -> UDPMediaSocket? in
            defer { s.udp = nil; s.udpConnected = false }
            return s.udp
        }
        udp?.close()   // the server ended it with the old connection; the republish negotiates anew
        state.withLockedValue { s in
            s.channel = channel
            s.handle = handle
            s.waitingForKeyframe = true
            s.keyframeRequested = true
            s.backlog = SendBacklog()
        }
    }

    /// What was sent and dropped since the stream started; latency is capture to send.
    public var counters: StreamCounters { state.withLockedValue { $0.counters } }

    /// False once the stream was stopped or the connection ended.
    public var isActive: Bool { state.withLockedValue { !$0.stopped } }

    /// Sends one encoded frame. Returns false when it was dropped.
    @discardableResult
    public func send(track: TrackKind, keyframe: Bool, pts: Int64, dts: Int64, captureTime: UInt64,
                     payload: UnsafeRawBufferPointer) -> Bool {
        send(track: track, flags: keyframe ? .keyframe : [], pts: pts, dts: dts, captureTime: captureTime, payload: payload)
    }

    /// Sends one encoded frame with explicit header flags. Returns false when it was dropped.
    @discardableResult
    public func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
                     payload: UnsafeRawBufferPointer) -> Bool {
        let keyframe = flags.contains(.keyframe)
        let now = NIODeadline.now().uptimeNanoseconds
        // A muted track sends nothing; video unmuted starts again at a keyframe (asked for when it was unmuted).
        guard let soundLevel = state.withLockedValue({ s -> UInt8?? in
            if s.muted.contains(track) { return .none }
            if track == .video && s.waitingForUnmuteKeyframe {
                guard keyframe else { return .none }
                s.waitingForUnmuteKeyframe = false
            }
            return .some(track == .audio ? s.soundLevel : nil)
        }) else { return false }
        if let udp = state.withLockedValue({ s -> UDPMediaSocket?? in
            if s.stopped { return .some(nil) }
            if s.udpConnected, let udp = s.udp {
                s.counters.record(track: track, bytes: payload.count, captureTime: captureTime)
                return .some(udp)
            }
            if s.udpRequired {
                s.counters.framesDropped += 1
                return .some(nil)
            }
            return .none
        }) {
            guard let udp else { return false }
            let header = MediaFrameHeader(streamHandle: 0, track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime,
                                          soundLevel: soundLevel)
            udp.send(RTPFrame(header: header, payload: ByteBuffer(bytes: payload)))
            return true
        }
        let header = MediaFrameHeader(streamHandle: 0, track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime,
                                      soundLevel: soundLevel)
        let frameSize = payload.count + header.encodedSize + 5   // the length prefix and the frame type
        let target = state.withLockedValue { s -> (Channel, UInt32, UInt64)? in
            if s.stopped { return nil }
            let age = s.backlog.age(at: now)
            s.link.observe(backlogAge: age)
            guard let channel = s.channel, channel.isWritable else {
                s.counters.framesDropped += 1
                s.link.dropped += 1
                if track == .video { s.waitingForKeyframe = true }
                return nil
            }
            switch Self.dropPolicy.decide(video: track == .video, keyframe: keyframe, waitingForKeyframe: s.waitingForKeyframe,
                                          backlogAge: age) {
            case .drop(let startsWaiting):
                s.counters.framesDropped += 1
                if track == .video { s.waitingForKeyframe = true }
                // Waiting for the keyframe after a reconnect is not the link's doing.
                if age > 0 { s.link.dropped += 1 }
                if startsWaiting { s.keyframeRequested = true }
                return nil
            case .send:
                if track == .video { s.waitingForKeyframe = false }
            }
            s.counters.record(track: track, bytes: payload.count, captureTime: captureTime)
            s.backlog.wrote(frameSize, at: now)
            return (channel, s.handle, s.backlog.written)
        }
        guard let (channel, handle, end) = target else { return false }
        var buffer = channel.allocator.buffer(capacity: frameSize)
        buffer.writeFrame(.media) { body in
            var h = header
            h.streamHandle = handle
            h.write(to: &body)
            body.writeBytes(payload)
        }
        // Completed when the kernel took the frame: that moves the backlog on and is what the link drains.
        let taken = channel.eventLoop.makePromise(of: Void.self)
        taken.futureResult.whenComplete { [state] _ in
            state.withLockedValue { s in
                guard s.channel === channel else { return }
                let before = s.backlog.taken
                s.backlog.took(upTo: end)
                s.link.taken += Int(s.backlog.taken - before)
            }
        }
        channel.writeAndFlush(buffer, promise: taken)
        return true
    }

    /// The layer the encoder should use now, the controller's (nil: as configured, traffic control off).
    public var videoLayer: VideoLayer? { state.withLockedValue { $0.controller?.layer } }

    /// The tracks as the stream sends them now.
    public var tracks: [TrackInfo] { state.withLockedValue { $0.tracks } }

    /// The encoder restarted with a new description of its video (a traffic control layer): called on its
    /// thread just before the first frame of it (a keyframe), so that `set_stream_tracks` is written on the
    /// connection ahead of that frame and the server, its players and recorders see them in that order.
    public func updateVideoTrack(_ track: TrackInfo) {
        let (channel, tracks) = state.withLockedValue { s -> (Channel?, [TrackInfo]) in
            s.tracks = s.tracks.map { $0.kind == track.kind ? track : $0 }
            return (s.channel, s.tracks)
        }
        guard let channel else { return }   // a republish after the reconnect describes them
        let message = ControlMessage.setStreamTracks(SetStreamTracks(streamID: streamID, tracks: tracks))
        channel.writeAndFlush(message.frame(allocator: channel.allocator), promise: nil)
    }

    /// The video bit rate the encoder should use now (nil: what it was configured with).
    public var videoBitRate: Int? { state.withLockedValue { $0.videoBitRate } }

    /// The video bit rate traffic control aims at: its current rate, else the configured ceiling (nil when
    /// traffic control is off).
    public var targetVideoBitRate: Int? {
        state.withLockedValue { s in s.controller.map { s.videoBitRate ?? $0.settings.maxVideoBitRate } }
    }

    /// How old the oldest frame waiting for the socket is, in ms.
    public var backlogMilliseconds: Double {
        let now = NIODeadline.now().uptimeNanoseconds
        return Double(state.withLockedValue { $0.backlog.age(at: now) }) / 1e6
    }

    /// True once after the server relayed a keyframe request: the encoder should make the next frame an IDR.
    public func takeKeyframeRequest() -> Bool {
        state.withLockedValue { s in
            defer { s.keyframeRequested = false }
            return s.keyframeRequested
        }
    }

    func requestKeyframe() { state.withLockedValue { $0.keyframeRequested = true } }

    /// The sound level of what is captured, measured over the last interval (-dBov, `SoundLevel`): it rides on
    /// every audio frame from now on, and is a captured_sound_level_update event.
    public func noteSoundLevel(_ dBov: UInt8) {
        let handler = state.withLockedValue { s -> (@Sendable (UInt8) -> Void)? in
            s.soundLevel = dBov
            return s.onSoundLevel
        }
        handler?(dBov)
    }

    /// Who hears of each measured level (RoomClient, for its event).
    func onSoundLevel(_ handler: @escaping @Sendable (UInt8) -> Void) { state.withLockedValue { $0.onSoundLevel = handler } }

    /// The tracks muted now: their frames are not sent.
    public var muted: Set<TrackKind> { state.withLockedValue { $0.muted } }

    /// Mutes or unmutes a track here (what the server is told is `RoomClient.setMuted`'s part). Video
    /// unmuted resumes at a keyframe the encoder is asked for (in `--copy` mode: the source's next one).
    func setMuted(_ kind: TrackKind, _ muted: Bool) {
        state.withLockedValue { s in
            if muted {
                s.muted.insert(kind)
            } else if s.muted.remove(kind) != nil, kind == .video {
                s.waitingForUnmuteKeyframe = true
                s.keyframeRequested = true
            }
        }
    }

    func markStopped() {
        let udp = state.withLockedValue { s -> UDPMediaSocket? in
            s.stopped = true
            defer { s.udp = nil; s.udpConnected = false }
            return s.udp
        }
        udp?.close()
    }

    /// A UDP socket for this stream (negotiated, not yet connected); replaces and closes any earlier one.
    func attachUDP(_ udp: UDPMediaSocket, required: Bool) {
        let old = state.withLockedValue { s -> UDPMediaSocket? in
            defer { s.udp = udp; s.udpConnected = false; s.udpRequired = required; s.rtpLink = RTPLinkMeter() }
            return s.udp
        }
        if old !== udp { old?.close() }
    }

    /// The UDP socket connected (frames go on it from now, starting with a keyframe) or failed (nil: TCP again,
    /// unless UDP is required). Ignored for a socket that is no longer this stream's.
    func udpChanged(_ udp: UDPMediaSocket, connected: Bool) {
        let stale = state.withLockedValue { s -> Bool in
            guard s.udp === udp else { return true }
            s.udpConnected = connected
            if connected { s.keyframeRequested = true } else { s.udp = nil }
            return false
        }
        if !connected || stale { udp.close() }
    }

    /// The UDP session's figures while frames go on it (nil on the room connection).
    public var udpStatistics: RTPPeer.Statistics? {
        state.withLockedValue { s in s.udpConnected ? s.udp?.driver.peerStatistics : nil }
    }

    /// UDP is required and could not be had: frames are dropped (and counted).
    func markUDPUnavailable() { state.withLockedValue { $0.udpRequired = true } }

    /// How this stream's media travels now.
    public var transport: String { state.withLockedValue { $0.udpConnected ? "udp" : "tcp" } }
}
