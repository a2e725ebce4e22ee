import Logging
import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol

/// A media frame as the publisher sent it (length prefix included), with what fan-out needs to know.
struct CachedFrame: Sendable {
    var wire: ByteBuffer
    var isVideo: Bool
    var isKeyframe: Bool
    /// When serve had read it from the publisher.
    var received: NIODeadline
    /// Video of the stream's small layer (`publish --layers`).
    var isSmallLayer = false
    /// Opus made from the stream's AAC (`OpusBranch`), for the players that need it; never cached.
    var isTranscoded = false
}

/// Forwards one stream's frames to its subscribers: each frame is the buffer the publisher's connection
/// read (never copied per subscriber), written with one task per event loop, not per subscriber.
/// Everything reaches a session through its loop's task queue, so a subscriber sees play_started, then the
/// cached GOP, then live frames, in that order.
final class StreamFanout: @unchecked Sendable {
    let handle: UInt32
    let streamID: String
    /// The stream's codec per kind ("h264", "aac", "opus"): a player's UDP session carries a kind only in it.
    let codecs: [TrackKind: String]
    let hasVideo: Bool
    private let lock = NIOLock()
    private var cache: GOPCache
    private var groups: [ObjectIdentifier: LoopGroup] = [:]
    private var closed = false
    private var keyframeWanted: (@Sendable () -> Void)?
    /// Video frames forwarded, to time one in `timedEvery` (under the lock).
    private var videoFrames = 0
    static let timedEvery = 30
    /// The last sound level its audio frames carried (under the lock): the registry hears of changes only.
    private var lastSoundLevel: UInt8?
    /// The stream's AAC track, when it has one and the server can transcode: players that take only Opus
    /// get it through `opus`, which exists while `opusPlayers` is not empty (under the lock).
    private let aacTrack: TrackInfo?
    private let transcoding: (any AudioTranscoding)?
    private var opus: OpusBranch?
    private var opusPlayers: Set<ObjectIdentifier> = []
    private let logger: Logger

    /// Whether an audio frame's sound level differs from the last one (and remembers it).
    func soundLevelChanged(_ dBov: UInt8) -> Bool {
        lock.withLock {
            defer { lastSoundLevel = dBov }
            return lastSoundLevel != dBov
        }
    }

    /// The next level is news whatever it is (after a mute, which reads 0 to the room).
    func forgetSoundLevel() { lock.withLock { lastSoundLevel = nil } }

    /// Called (on a subscriber's loop) when a subscriber fell back to waiting for a keyframe after drops.
    var onKeyframeWanted: (@Sendable () -> Void)? {
        get { lock.withLock { keyframeWanted } }
        set { lock.withLock { keyframeWanted = newValue } }
    }

    private struct LoopGroup {
        var loop: EventLoop
        var sessions: [ServerSession]
        let flush: HeldFlush
    }

    /// Audio written but not flushed yet on one loop (touched only on that loop).
    final class HeldFlush: @unchecked Sendable {
        var scheduled = false
    }

    /// How long audio may wait for the next video frame to be flushed with it.
    static let audioHold = TimeAmount.milliseconds(40)

    private let metrics: ServerMetrics

    init(handle: UInt32, streamID: String, codecs: [TrackKind: String] = [:], hasVideo: Bool, gopCacheLimitBytes: Int,
         metrics: ServerMetrics = .disabled, audioTrack: TrackInfo? = nil, transcoding: (any AudioTranscoding)? = nil,
         logger: Logger = Logger(label: "rtcbox.serve")) {
        aacTrack = audioTrack?.codec.lowercased() == "aac" ? audioTrack : nil
        self.transcoding = transcoding
        self.logger = logger
        self.handle = handle
        self.streamID = streamID
        self.codecs = codecs
        self.hasVideo = hasVideo
        self.metrics = metrics
        self.cache = GOPCache(limitBytes: gopCacheLimitBytes)
    }

    var subscriberCount: Int { lock.withLock { groups.values.reduce(0) { $0 + $1.sessions.count } } }

    /// Players taking the stream's audio as Opus made from its AAC (0: no transcoder runs).
    var opusPlayerCount: Int { lock.withLock { opusPlayers.count } }

    /// Called on the publisher's event loop for each frame.
    func forward(_ frame: CachedFrame) {
        let (targets, timed, branch): ([LoopGroup], Bool, OpusBranch?) = lock.withLock {
            guard !closed else { return ([], false, nil) }
            if !frame.isTranscoded { cache.append(frame, hasVideoTrack: hasVideo) }
            guard frame.isVideo else { return (Array(groups.values), false, frame.isTranscoded ? nil : opus) }
            videoFrames += 1
            return (Array(groups.values), videoFrames % Self.timedEvery == 0, nil)
        }
        branch?.feed(frame) { [weak self] opus in self?.forward(opus) }
        let handle = self.handle
        for group in targets {
            let sessions = group.sessions
            // Queued even on the current loop, behind any control message already queued for these sessions.
            let held = group.flush
            group.loop.execute { [self] in
                self.deliver(frame, to: sessions, handle: handle, held: held, loop: group.loop, timed: timed)
            }
        }
    }

    /// Writes a frame to this loop's subscribers. Video is flushed at once (and takes any audio written
    /// since along); audio rides with the next video frame, or is flushed after at most `audioHold`: fan-out
    /// cost follows the writes per subscriber, and this halves them (anchors/README.md).
    private func deliver(_ frame: CachedFrame, to sessions: [ServerSession], handle: UInt32, held: HeldFlush, loop: EventLoop,
                         timed: Bool) {
        var wantsKeyframe = false
        var countedBytes = 0
        let flush = frame.isVideo || !hasVideo
        for s in sessions {
            let d = s.deliver(frame, handle: handle, flush: flush)
            if d.wantsKeyframe { wantsKeyframe = true }
            countedBytes += d.uncountedBytes
            if d.wrote && timed { metrics.fanoutVideoDelay.recordNanoseconds((NIODeadline.now() - frame.received).nanoseconds) }
        }
        // One counter update per frame and loop, not one per subscriber (an atomic shared by the loops).
        if countedBytes > 0 { metrics.bytesOut.increment(by: Int64(countedBytes)) }
        if !flush && !held.scheduled {
            held.scheduled = true
            loop.scheduleTask(in: Self.audioHold) { [weak self] in
                held.scheduled = false
                guard let self else { return }
                for s in self.sessions(on: loop) { s.flushMedia() }
            }
        }
        if wantsKeyframe { onKeyframeWanted?() }
    }

    private func sessions(on loop: EventLoop) -> [ServerSession] {
        lock.withLock { groups[ObjectIdentifier(loop)]?.sessions ?? [] }
    }

    /// Adds a subscriber and hands it the cached GOP, before any later frame (both happen under the lock).
    func add(_ session: ServerSession) {
        lock.withLock {
            guard !closed else { return }
            if let aacTrack, let transcoding, session.takesOpus(of: streamID, streamCodec: aacTrack.codec) {
                opusPlayers.insert(ObjectIdentifier(session))
                if opus == nil {
                    do {
                        opus = OpusBranch(transcoder: try transcoding.opusTranscoder(for: aacTrack), handle: handle, streamID: streamID,
                                          logger: logger)
                        metrics.opusTranscodes.increment()
                        logger.notice("AAC to Opus for WebRTC players", metadata: ["stream": "\(streamID)"])
                    } catch {
                        logger.warning("AAC to Opus cannot start: \(error)", metadata: ["stream": "\(streamID)"])
                    }
                }
            }
            let key = ObjectIdentifier(session.eventLoop)
            if groups[key] == nil { groups[key] = LoopGroup(loop: session.eventLoop, sessions: [], flush: HeldFlush()) }
            guard groups[key]?.sessions.contains(where: { $0 === session }) == false else { return }
            groups[key]?.sessions.append(session)
            let frames = cache.frames
            let handle = self.handle
            let streamID = self.streamID
            let codecs = self.codecs
            let metrics = self.metrics
            let start: @Sendable () -> Void = {
                session.startDelivery(handle: handle, streamID: streamID, codecs: codecs)
                var bytes = 0
                for f in frames { bytes += session.deliver(f, handle: handle, flush: false).uncountedBytes }
                session.flushMedia()
                if bytes > 0 { metrics.bytesOut.increment(by: Int64(bytes)) }
            }
            session.eventLoop.execute(start)
        }
    }

    func remove(_ session: ServerSession) {
        lock.withLock {
            if opusPlayers.remove(ObjectIdentifier(session)) != nil, opusPlayers.isEmpty, opus != nil {
                opus = nil
                metrics.opusTranscodes.decrement()
                logger.notice("AAC to Opus ended: no WebRTC player needs it", metadata: ["stream": "\(streamID)"])
            }
            let key = ObjectIdentifier(session.eventLoop)
            groups[key]?.sessions.removeAll { $0 === session }
            if groups[key]?.sessions.isEmpty == true { groups[key] = nil }
        }
        let handle = self.handle
        session.eventLoop.execute { session.stopDelivery(handle: handle) }
    }

    /// Stops forwarding; later frames are ignored.
    func close() {
        lock.withLock {
            closed = true
            if opus != nil { metrics.opusTranscodes.decrement() }
            opus = nil
            opusPlayers.removeAll()
            groups.removeAll()
            cache.clear()
        }
    }
}
