import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol

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
    }

    init(streamID: String, handle: UInt32, channel: Channel) {
        self.streamID = streamID
        self.state = NIOLockedValueBox(SendState(channel: channel, handle: handle))
    }

    public var handle: UInt32 { state.withLockedValue { $0.handle } }

    /// The connection dropped: frames are dropped (and counted) until `rebind`.
    func suspend() { state.withLockedValue { $0.channel = nil } }

    /// Sends to a new connection after a reconnect, starting at a keyframe the encoder is asked for.
    func rebind(channel: Channel, handle: UInt32) {
        state.withLockedValue { s in
            s.channel = channel
            s.handle = handle
            s.waitingForKeyframe = true
            s.keyframeRequested = true
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
        let target = state.withLockedValue { s -> (Channel, UInt32)? in
            if s.stopped { return nil }
            guard let channel = s.channel, channel.isWritable else {
                s.counters.framesDropped += 1
                if track == .video { s.waitingForKeyframe = true }
                return nil
            }
            if track == .video && s.waitingForKeyframe {
                guard keyframe else {
                    s.counters.framesDropped += 1
                    return nil
                }
                s.waitingForKeyframe = false
            }
            s.counters.record(track: track, bytes: payload.count, captureTime: captureTime)
            return (channel, s.handle)
        }
        guard let (channel, handle) = target else { return false }
        var buffer = channel.allocator.buffer(capacity: payload.count + MediaFrameHeader.size + 5)
        buffer.writeFrame(.media) { body in
            MediaFrameHeader(streamHandle: handle, track: track, flags: flags, pts: pts, dts: dts,
                             captureTime: captureTime).write(to: &body)
            body.writeBytes(payload)
        }
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    /// True once after the server relayed a keyframe request: the encoder should make the next frame an IDR.
    public func takeKeyframeRequest() -> Bool {
        state.withLockedValue { s in
            defer { s.keyframeRequested = false }
            return s.keyframeRequested
        }
    }

    func requestKeyframe() { state.withLockedValue { $0.keyframeRequested = true } }
    func markStopped() { state.withLockedValue { $0.stopped = true } }
}
