import FFmpegKit
import RoomProtocol

/// What turns one input stream's packets into published frames: an encoder (decode, convert, encode)
/// or a copier (`--copy`). Lives on its input's thread.
protocol TrackSource: AnyObject {
    var streamIndex: Int { get }
    var track: TrackInfo { get }
    var framesOut: Int { get }
    var framesDropped: Int { get }
    /// Handles one input packet (nil at the end, to drain). `relative` maps the stream's timestamps to µs
    /// since the input started.
    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws
}

extension VideoTrackEncoder: TrackSource {}
extension AudioTrackEncoder: TrackSource {}
extension TrackCopier: TrackSource {}
