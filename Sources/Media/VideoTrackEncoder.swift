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
    /// `--layers`: the small layer's encoder, fed the same pictures; its keyframes are the big one's.
    private let small: VideoFrameEncoder?
    private let decoded: Frame
    /// The configured track (what the publish request describes), with its layers.
    let track: TrackInfo
    var framesOut: Int { encoder.framesOut }
    var framesDropped: Int { encoder.framesDropped }
    /// The small layer's share of the big one's bit rate.
    static let smallLayerRateShare = 0.25

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
        if let layer = settings.smallLayer {
            var ss = vs
            ss.width = layer.width ?? max(16, (width / 2) & ~1)
            ss.height = layer.height ?? max(16, (height / 2) & ~1)
            guard ss.width < width || ss.height < height, ss.width <= width, ss.height <= height else {
                throw FFmpegError(operation: "--layers", message: "the small layer \(ss.width)x\(ss.height) is not smaller than the big one \(width)x\(height)")
            }
            ss.bitRate = max(50_000, Int(Double(vs.bitRate) * Self.smallLayerRateShare))
            // Its keyframes are forced where the big layer's are (scene cuts included), never its own.
            ss.gopFrames = 1 << 30
            small = try VideoFrameEncoder(settings: ss)
            var t = encoder.track
            t.layers = [TrackLayer(width: width, height: height, bitRate: vs.bitRate),
                        TrackLayer(width: ss.width, height: ss.height, bitRate: ss.bitRate)]
            track = t
        } else {
            small = nil
            track = encoder.track
        }
    }

    /// Decodes `input` and sends what the encoder produces. `relative` maps a timestamp in the input stream's
    /// time base to µs since the pipeline started.
    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        try decoder.send(input)
        while try decoder.receive(into: decoded) == .produced {
            let ts = decoded.pointer.pointee.best_effort_timestamp
            let micros = ts == cff_nopts_value() ? 0 : relative(ts)
            if let small {
                // The big layer first: the server's GOP cache starts at its keyframe, the small one's follows.
                let big = BigLayerSink(base: sink)
                let keyframes = encoder.keyframesOut
                try encoder.encode(decoded, micros: micros, captureTime: captureTime, sink: big)
                let smallSink = SmallLayerSink(base: sink, forceKeyframe: encoder.keyframesOut > keyframes, bigRate: big.videoBitRate)
                try small.encode(decoded, micros: micros, captureTime: captureTime, sink: smallSink)
            } else {
                try encoder.encode(decoded, micros: micros, captureTime: captureTime, sink: sink)
            }
            decoded.unref()
        }
        if input == nil {
            try encoder.drain(sink: small == nil ? sink : BigLayerSink(base: sink))
            try small?.drain(sink: SmallLayerSink(base: sink, forceKeyframe: false, bigRate: nil))
        }
    }
}

/// The big layer of a layered publish: as the sink asks, but at one size (traffic control steers its bit
/// rate, not its size: the small layer is there for small downlinks).
struct BigLayerSink: MediaSink {
    let base: MediaSink
    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool {
        base.send(track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: payload)
    }
    func takeKeyframeRequest() -> Bool { base.takeKeyframeRequest() }
    var videoBitRate: Int? { base.videoBitRate }
    var videoLayer: VideoLayer? { nil }
    func noteSoundLevel(_ dBov: UInt8) { base.noteSoundLevel(dBov) }
}

/// The small layer of a layered publish: its frames flagged, a keyframe exactly where the big layer made
/// one, its bit rate a share of the big one's.
struct SmallLayerSink: MediaSink {
    let base: MediaSink
    let forceKeyframe: Bool
    let bigRate: Int?
    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool {
        base.send(track: track, flags: flags.union(.smallLayer), pts: pts, dts: dts, captureTime: captureTime, payload: payload)
    }
    func takeKeyframeRequest() -> Bool { forceKeyframe }
    var videoBitRate: Int? { bigRate.map { max(50_000, Int(Double($0) * VideoTrackEncoder.smallLayerRateShare)) } }
    var videoLayer: VideoLayer? { nil }
}
