import CFFmpeg
import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// Raw pictures → H.264 into a `MediaSink`, at the bit rate and layer the sink asks for now (traffic
/// control). Shared by publish (`VideoTrackEncoder`: decoded capture) and the mixer (composed pictures).
/// A layer (a smaller size, a lower frame rate) restarts the encoder at its settings; the stream's track
/// description follows (`MediaSink.updateVideoTrack`) just before the new keyframe.
final class VideoFrameEncoder {
    /// The configured track (what the publish request describes).
    let track: TrackInfo
    private var encoder: Encoder
    private var scaler: Scaler
    /// The configured encoder settings; a layer scales them.
    private let configured: VideoEncoderSettings
    private var layer = VideoLayer.full
    private let packet: Packet
    private var lastPts: Int64 = Int64.min
    private var captureTimes: [Int64: UInt64] = [:]
    private(set) var framesOut = 0
    private(set) var framesDropped = 0
    /// Keyframes the encoder produced (sent or not): a layered publish aligns its small layer to them.
    private(set) var keyframesOut = 0

    init(settings: VideoEncoderSettings) throws {
        encoder = try Encoder.video(settings)
        configured = settings
        scaler = try Scaler(width: settings.width, height: settings.height, pixelFormat: AV_PIX_FMT_YUV420P)
        packet = try Packet()
        track = TrackInfo(kind: .video, codec: "h264", width: settings.width, height: settings.height,
                          frameRate: av_q2d(settings.frameRate), bitRate: settings.bitRate)
    }

    /// Encoder settings for a frame rate and key interval given in whole frames per second and seconds.
    static func settings(width: Int, height: Int, fps: Int, bitRate: Int, gopSeconds: Double, preset: String, tune: String?) -> VideoEncoderSettings {
        var vs = VideoEncoderSettings(width: width, height: height, frameRate: AVRational(num: Int32(fps), den: 1), bitRate: bitRate,
                                      gopFrames: max(1, Int((gopSeconds * Double(fps)).rounded())))
        vs.preset = preset
        vs.tune = tune
        return vs
    }

    /// Encodes `source` (any size and pixel format: scaled to the current layer) shown at `micros` since
    /// the pipeline started; frames faster than the output frame rate are skipped.
    func encode(_ source: Frame, micros: Int64, captureTime: UInt64, sink: MediaSink) throws {
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
        let shownPts = frame.pts
        frame.pts = pts
        // Decoders mark every raw frame as I; x264 would honour it (see notes/ffmpeg-from-swift.md).
        frame.pointer.pointee.pict_type = sink.takeKeyframeRequest() ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        captureTimes[pts] = captureTime
        if let rate = sink.videoBitRate, rate != encoder.bitRate { encoder.setBitRate(rate) }
        defer { if frame === source { source.pts = shownPts } }
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

    /// Sends what the encoder still holds (the end of the input, or before a restart).
    func drain(sink: MediaSink) throws {
        try encoder.send(nil)
        try receivePackets(sink: sink)
    }

    private func receivePackets(sink: MediaSink) throws {
        while try encoder.receive(into: packet) == .produced {
            let tb = encoder.timeBase
            let us = AVRational(num: 1, den: 1_000_000)
            let capture = captureTimes.removeValue(forKey: packet.pts) ?? UInt64(FFmpegLibrary.wallClockMicros())
            if packet.isKeyframe { keyframesOut += 1 }
            let sent = sink.send(track: .video, keyframe: packet.isKeyframe, pts: av_rescale_q(packet.pts, tb, us),
                                 dts: av_rescale_q(packet.dts, tb, us), captureTime: capture,
                                 payload: UnsafeRawBufferPointer(packet.bytes))
            if sent { framesOut += 1 } else { framesDropped += 1 }
            packet.unref()
        }
        if captureTimes.count > 256 { captureTimes.removeAll() }
    }
}
