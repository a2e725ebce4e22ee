import CFFmpeg
import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// Decodes one input video stream and hands each picture to a `VideoFrameEncoder` (scale, H.264, layers).
/// Lives on its input's thread.
final class VideoTrackEncoder {
    let streamIndex: Int
    private let decoder: Decoder
    private let encoder: VideoFrameEncoder
    private let decoded: Frame
    /// The configured track (what the publish request describes).
    var track: TrackInfo { encoder.track }
    var framesOut: Int { encoder.framesOut }
    var framesDropped: Int { encoder.framesDropped }

    init(input: InputMedia, streamIndex: Int, settings: PublishSettings) throws {
        guard let stream = input.stream(streamIndex), let par = stream.pointee.codecpar else {
            throw FFmpegError(operation: "video input", message: "stream \(streamIndex) is missing")
        }
        self.streamIndex = streamIndex
        decoder = try Decoder(stream: stream)
        var width = settings.width ?? Int(par.pointee.width)
        var height = settings.height ?? Int(par.pointee.height)
        width -= width % 2
        height -= height % 2
        guard width >= 16, height >= 16 else {
            throw FFmpegError(operation: "video input \"\(input.url)\"", message: "video size \(width)x\(height) is too small or unknown")
        }
        var rate = AVRational(num: Int32(settings.frameRate ?? 0), den: 1)
        if settings.frameRate == nil {
            let guessed = av_guess_frame_rate(input.context, stream, nil)
            rate = guessed.num > 0 && guessed.den > 0 && av_q2d(guessed) <= 240 ? guessed : AVRational(num: 30, den: 1)
        }
        var vs = VideoEncoderSettings(width: width, height: height, frameRate: rate, bitRate: settings.videoBitRate,
                                      gopFrames: max(1, Int((settings.gopSeconds * av_q2d(rate)).rounded())))
        vs.preset = settings.preset
        vs.tune = settings.tune
        encoder = try VideoFrameEncoder(settings: vs)
        decoded = try Frame()
    }

    /// Decodes `input` and sends what the encoder produces. `relative` maps a timestamp in the input stream's
    /// time base to µs since the pipeline started.
    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        try decoder.send(input)
        while try decoder.receive(into: decoded) == .produced {
            let ts = decoded.pointer.pointee.best_effort_timestamp
            let micros = ts == cff_nopts_value() ? 0 : relative(ts)
            try encoder.encode(decoded, micros: micros, captureTime: captureTime, sink: sink)
            decoded.unref()
        }
        if input == nil { try encoder.drain(sink: sink) }
    }
}
