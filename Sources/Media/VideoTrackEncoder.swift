import CFFmpeg
import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// Decodes one input video stream, scales it, and encodes H.264. Lives on its input's thread. Traffic
/// control's layers (a smaller size, a lower frame rate) restart the encoder at the new settings; the
/// stream's track description follows (`MediaSink.updateVideoTrack`) just before the new keyframe.
final class VideoTrackEncoder {
    let streamIndex: Int
    /// The configured track (what the publish request describes).
    let track: TrackInfo
    private let decoder: Decoder
    private var encoder: Encoder
    private var scaler: Scaler
    /// The configured encoder settings; a layer scales them.
    private let configured: VideoEncoderSettings
    private var layer = VideoLayer.full
    private let decoded: Frame
    private let packet: Packet
    private let frameRate: AVRational
    private var lastPts: Int64 = Int64.min
    private var captureTimes: [Int64: UInt64] = [:]
    private(set) var framesOut = 0
    private(set) var framesDropped = 0

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
        frameRate = rate
        var vs = VideoEncoderSettings(width: width, height: height, frameRate: rate, bitRate: settings.videoBitRate,
                                      gopFrames: max(1, Int((settings.gopSeconds * av_q2d(rate)).rounded())))
        vs.preset = settings.preset
        vs.tune = settings.tune
        encoder = try Encoder.video(vs)
        configured = vs
        scaler = try Scaler(width: width, height: height, pixelFormat: AV_PIX_FMT_YUV420P)
        decoded = try Frame()
        packet = try Packet()
        track = TrackInfo(kind: .video, codec: "h264", width: width, height: height, frameRate: av_q2d(rate),
                          bitRate: settings.videoBitRate)
    }

    /// Decodes `input` and sends what the encoder produces. `relative` maps a timestamp in the input stream's
    /// time base to µs since the pipeline started.
    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        try decoder.send(input)
        while try decoder.receive(into: decoded) == .produced {
            let ts = decoded.pointer.pointee.best_effort_timestamp
            let micros = ts == cff_nopts_value() ? 0 : relative(ts)
            try encode(decoded, micros: micros, captureTime: captureTime, sink: sink)
            decoded.unref()
        }
        if input == nil { try drain(sink: sink) }
    }

    private func encode(_ source: Frame, micros: Int64, captureTime: UInt64, sink: MediaSink) throws {
        let wanted = sink.videoLayer ?? .full
        if wanted != layer { try restart(at: wanted, sink: sink) }
        let pts = av_rescale_q(micros, AVRational(num: 1, den: 1_000_000), encoder.timeBase)
        guard pts > lastPts else {
            // Faster than the output frame rate; a layer's lower frame rate drops on purpose.
            if layer.frameRateDivisor == 1 { framesDropped += 1 }
            return
        }
        lastPts = pts
        let frame = scaler.matches(source) ? source : try scaler.scale(source)
        frame.pts = pts
        // Decoders mark every raw frame as I; x264 would honour it (see notes/ffmpeg-from-swift.md).
        frame.pointer.pointee.pict_type = sink.takeKeyframeRequest() ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        captureTimes[pts] = captureTime
        if let rate = sink.videoBitRate, rate != encoder.bitRate { encoder.setBitRate(rate) }
        try encoder.send(frame)
        try receivePackets(sink: sink)
    }

    /// A new encoder (and scaler) at a layer's size and frame rate. What the old one still holds is sent
    /// first; the new one starts with a keyframe carrying the new SPS/PPS, announced by `updateVideoTrack`.
    private func restart(at wanted: VideoLayer, sink: MediaSink) throws {
        try drain(sink: sink)
        let described = wanted.apply(to: track)
        var vs = configured
        vs.width = described.width ?? configured.width
        vs.height = described.height ?? configured.height
        vs.frameRate = AVRational(num: configured.frameRate.num, den: configured.frameRate.den * Int32(wanted.frameRateDivisor))
        vs.gopFrames = max(1, configured.gopFrames / wanted.frameRateDivisor)
        vs.bitRate = sink.videoBitRate ?? configured.bitRate
        encoder = try Encoder.video(vs)
        scaler = try Scaler(width: vs.width, height: vs.height, pixelFormat: AV_PIX_FMT_YUV420P)
        layer = wanted
        lastPts = Int64.min
        captureTimes.removeAll()
        var announced = described
        announced.bitRate = vs.bitRate
        sink.updateVideoTrack(announced)
    }

    private func drain(sink: MediaSink) throws {
        try encoder.send(nil)
        try receivePackets(sink: sink)
    }

    private func receivePackets(sink: MediaSink) throws {
        while try encoder.receive(into: packet) == .produced {
            let tb = encoder.timeBase
            let us = AVRational(num: 1, den: 1_000_000)
            let capture = captureTimes.removeValue(forKey: packet.pts) ?? UInt64(FFmpegLibrary.wallClockMicros())
            let sent = sink.send(track: .video, keyframe: packet.isKeyframe, pts: av_rescale_q(packet.pts, tb, us),
                                 dts: av_rescale_q(packet.dts, tb, us), captureTime: capture,
                                 payload: UnsafeRawBufferPointer(packet.bytes))
            if sent { framesOut += 1 } else { framesDropped += 1 }
            packet.unref()
        }
        if captureTimes.count > 256 { captureTimes.removeAll() }
    }
}
