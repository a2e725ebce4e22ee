import CFFmpeg

/// Owns one AVPacket.
public final class Packet {
    public let pointer: UnsafeMutablePointer<AVPacket>

    public init() throws {
        guard let p = av_packet_alloc() else { throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_packet_alloc") }
        pointer = p
    }

    /// A packet holding a copy of `bytes`.
    public convenience init<Bytes: Collection>(copying bytes: Bytes) throws where Bytes.Element == UInt8 {
        try self.init()
        try FFmpegError.check(av_new_packet(pointer, Int32(bytes.count)), "av_new_packet")
        if let data = pointer.pointee.data {
            _ = UnsafeMutableBufferPointer(start: data, count: bytes.count).initialize(from: bytes)
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }

    public var streamIndex: Int {
        get { Int(pointer.pointee.stream_index) }
        set { pointer.pointee.stream_index = Int32(newValue) }
    }
    public var pts: Int64 {
        get { pointer.pointee.pts }
        set { pointer.pointee.pts = newValue }
    }
    public var dts: Int64 {
        get { pointer.pointee.dts }
        set { pointer.pointee.dts = newValue }
    }
    public var duration: Int64 {
        get { pointer.pointee.duration }
        set { pointer.pointee.duration = newValue }
    }
    public var size: Int { Int(pointer.pointee.size) }
    public var isKeyframe: Bool {
        get { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
        set {
            if newValue { pointer.pointee.flags |= AV_PKT_FLAG_KEY } else { pointer.pointee.flags &= ~AV_PKT_FLAG_KEY }
        }
    }

    /// The packet's bytes (a view valid until the packet changes).
    public var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: pointer.pointee.data, count: size)
    }

    public func unref() { av_packet_unref(pointer) }

    public func rescaleTimestamps(from source: AVRational, to destination: AVRational) {
        av_packet_rescale_ts(pointer, source, destination)
    }
}

/// Owns one AVFrame.
public final class Frame {
    public let pointer: UnsafeMutablePointer<AVFrame>

    public init() throws {
        guard let p = av_frame_alloc() else { throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_frame_alloc") }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }

    public var pts: Int64 {
        get { pointer.pointee.pts }
        set { pointer.pointee.pts = newValue }
    }
    public var width: Int { Int(pointer.pointee.width) }
    public var height: Int { Int(pointer.pointee.height) }
    public var format: Int32 { pointer.pointee.format }
    public var sampleCount: Int { Int(pointer.pointee.nb_samples) }
    public var sampleRate: Int { Int(pointer.pointee.sample_rate) }

    public func unref() { av_frame_unref(pointer) }

    /// Makes this frame `other`'s picture or samples (its buffers move here; `other` is left empty).
    public func take(from other: Frame) {
        av_frame_unref(pointer)
        av_frame_move_ref(pointer, other.pointer)
    }

    /// The mean square of a planar float audio frame's samples over all its channels (samples in -1...1);
    /// nil for another sample format or an empty frame.
    public var planarFloatMeanSquare: Double? {
        guard pointer.pointee.format == AV_SAMPLE_FMT_FLTP.rawValue else { return nil }
        let samples = sampleCount, channels = Int(pointer.pointee.ch_layout.nb_channels)
        guard samples > 0, channels > 0, let planes = pointer.pointee.extended_data else { return nil }
        var sum = 0.0
        for c in 0..<channels {
            guard let plane = planes[c] else { return nil }
            plane.withMemoryRebound(to: Float.self, capacity: samples) { p in
                for i in 0..<samples {
                    let v = Double(p[i])
                    sum += v * v
                }
            }
        }
        return sum / Double(samples * channels)
    }

    /// Allocates a video frame's buffers.
    public func allocateVideo(width: Int, height: Int, pixelFormat: AVPixelFormat) throws {
        unref()
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        pointer.pointee.format = pixelFormat.rawValue
        try FFmpegError.check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer (video)")
    }

    /// Allocates an audio frame's buffers.
    public func allocateAudio(samples: Int, sampleRate: Int, format: AVSampleFormat, layout: AVChannelLayout) throws {
        unref()
        pointer.pointee.nb_samples = Int32(samples)
        pointer.pointee.sample_rate = Int32(sampleRate)
        pointer.pointee.format = format.rawValue
        var l = layout
        try FFmpegError.check(av_channel_layout_copy(&pointer.pointee.ch_layout, &l), "av_channel_layout_copy")
        try FFmpegError.check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer (audio)")
    }
}
