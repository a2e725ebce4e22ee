import NIOCore
import RoomClient
import RoomProtocol

/// Where encoded frames go: a published stream, or (for preview) a local muxer. Called from pipeline threads.
public protocol MediaSink: Sendable {
    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool
    /// True once after someone asked for a keyframe.
    func takeKeyframeRequest() -> Bool
    /// The video bit rate to encode at now (traffic control); nil: as configured.
    var videoBitRate: Int? { get }
    /// The size and frame rate to encode at now (traffic control); nil: as configured.
    var videoLayer: VideoLayer? { get }
    /// The encoder restarted with this description of its video; the next frame is its first (a keyframe).
    func updateVideoTrack(_ track: TrackInfo)
    /// The sound level of the captured audio over the last interval, -dBov (`SoundLevel`).
    func noteSoundLevel(_ dBov: UInt8)
}

extension MediaSink {
    public var videoBitRate: Int? { nil }
    public var videoLayer: VideoLayer? { nil }
    public func updateVideoTrack(_ track: TrackInfo) {}
    public func noteSoundLevel(_ dBov: UInt8) {}
}

extension MediaSink {
    func send(track: TrackKind, keyframe: Bool, pts: Int64, dts: Int64, captureTime: UInt64, payload: UnsafeRawBufferPointer) -> Bool {
        send(track: track, flags: keyframe ? .keyframe : [], pts: pts, dts: dts, captureTime: captureTime, payload: payload)
    }
}

extension StreamPublisher: MediaSink {}

/// Input timestamps → µs since the pipeline started. Everything the pipelines exchange is in µs.
enum Micros {
    static let perSecond: Int64 = 1_000_000
}

/// A WHIP publish (`publish --whip URL`): frames go straight to its RTP session, with their times in
/// rtcbox's frame-timing extension (a server that does not know it takes times from the RTP clock).
extension WHIPClient: MediaSink {
    public func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
                     payload: UnsafeRawBufferPointer) -> Bool {
        let header = MediaFrameHeader(streamHandle: 0, track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime)
        send(header, payload: ByteBuffer(bytes: payload))
        return true
    }
}
