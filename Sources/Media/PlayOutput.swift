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
