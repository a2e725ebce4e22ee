import RoomProtocol

/// Where a player's frames go: a muxer of the received packets (StreamMuxer) or decoded raw media
/// (DecodedWriter, `--decode`).
protocol PlayOutput: AnyObject {
    /// A (re)started stream: the next written video frame must be a join point.
    func streamStarted(_ info: StreamInfo)
    /// Writes one frame, or drops it (waiting for a join point, or going back in time). True when written.
    func write(_ frame: MediaFrame) throws -> Bool
    /// Completes the output (trailer, last decoded frames).
    func finish() throws
    var hasVideo: Bool { get }
    var videoFramesWritten: Int { get }
    var audioFramesWritten: Int { get }
    var framesDropped: Int { get }
    /// The output media time in µs.
    var mediaMicros: Int64 { get }
}

extension StreamMuxer: PlayOutput {}

/// Writes nothing: counts what a player received (`play --sei-only` looks at the frames, not the media).
final class DiscardingOutput: PlayOutput {
    private var tracks: [TrackInfo] = []
    private var firstPts: Int64?
    private(set) var videoFramesWritten = 0
    private(set) var audioFramesWritten = 0
    private(set) var mediaMicros: Int64 = 0
    let framesDropped = 0

    func streamStarted(_ info: StreamInfo) { tracks = info.tracks }
    var hasVideo: Bool { tracks.isEmpty || tracks.contains { $0.kind == .video } }

    func write(_ frame: MediaFrame) throws -> Bool {
        if frame.header.track == .video { videoFramesWritten += 1 } else { audioFramesWritten += 1 }
        if firstPts == nil { firstPts = frame.header.pts }
        mediaMicros = max(mediaMicros, frame.header.pts - (firstPts ?? 0))
        return true
    }

    func finish() throws {}
}
