import CFFmpeg

/// Settings of the H.264 encoder (libx264).
public struct VideoEncoderSettings: Sendable, Equatable {
    public var codecName = "libx264"
    public var width: Int
    public var height: Int
    public var frameRate: AVRational
    public var bitRate: Int
    public var gopFrames: Int
    public var preset = "veryfast"
    public var tune: String? = "zerolatency"

    public init(width: Int, height: Int, frameRate: AVRational, bitRate: Int, gopFrames: Int) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.bitRate = bitRate
        self.gopFrames = gopFrames
    }
}

/// Settings of an audio encoder: libavcodec's native "aac" (the default), or "libopus".
public struct AudioEncoderSettings: Sendable, Equatable {
    public var codecName = "aac"
    public var sampleRate: Int
    public var channels: Int
    public var bitRate: Int
    /// What the encoder takes: planar float for FFmpeg's AAC, interleaved for libopus.
    public var sampleFormat: AVSampleFormat

    public init(codecName: String = "aac", sampleRate: Int, channels: Int, bitRate: Int) {
        self.codecName = codecName
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
        sampleFormat = codecName == "libopus" ? AV_SAMPLE_FMT_FLT : AV_SAMPLE_FMT_FLTP
    }
}

/// An opened encoder.
public final class Encoder {
    public let context: UnsafeMutablePointer<AVCodecContext>

    public var timeBase: AVRational { context.pointee.time_base }
    /// Samples per audio frame the encoder wants (1024 for AAC), 0 for video.
    public var frameSize: Int { Int(context.pointee.frame_size) }
    public var extradata: [UInt8] {
        guard let p = context.pointee.extradata, context.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: Int(context.pointee.extradata_size)))
    }

    private init(codecName: String, configure: (UnsafeMutablePointer<AVCodecContext>) throws -> Void,
                 options: [(String, String)]) throws {
        guard let codec = avcodec_find_encoder_by_name(codecName) else {
            throw FFmpegError(operation: "encoder", message: "libavcodec has no encoder \(codecName)", code: cff_averror_encoder_not_found())
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "avcodec_alloc_context3")
        }
        context = ctx
        try configure(ctx)
        var dict = OptionDictionary(options)
        defer { dict.free() }
        try FFmpegError.check(avcodec_open2(ctx, codec, &dict.pointer), "open encoder \(codecName)")
        let unused = dict.remainingKeys
        if !unused.isEmpty {
            throw FFmpegError(operation: "open encoder \(codecName)", message: "option not recognised: \(unused.joined(separator: ", "))")
        }
    }

    deinit {
        var c: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&c)
    }

    /// H.264 with SPS/PPS repeated in band before every keyframe (no global header), so any keyframe is a join point.
    public static func video(_ s: VideoEncoderSettings) throws -> Encoder {
        var options: [(String, String)] = [("preset", s.preset), ("forced-idr", "1")]
        if let tune = s.tune { options.append(("tune", tune)) }
        return try Encoder(codecName: s.codecName, configure: { ctx in
            ctx.pointee.width = Int32(s.width)
            ctx.pointee.height = Int32(s.height)
            ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            // Tagged as what it is: swscale converts RGB with BT.601 and limited range, and untagged YUV input
            // is taken to be the same (ffmpeg's convention). Untagged, browsers would assume BT.709 (greens off).
            ctx.pointee.color_primaries = AVCOL_PRI_SMPTE170M
            ctx.pointee.color_trc = AVCOL_TRC_SMPTE170M
            ctx.pointee.colorspace = AVCOL_SPC_SMPTE170M
            ctx.pointee.color_range = AVCOL_RANGE_MPEG
            ctx.pointee.time_base = av_inv_q(s.frameRate)
            ctx.pointee.framerate = s.frameRate
            ctx.pointee.gop_size = Int32(max(1, s.gopFrames))
            ctx.pointee.max_b_frames = 0
            ctx.pointee.bit_rate = Int64(s.bitRate)
            ctx.pointee.rc_max_rate = Int64(s.bitRate)
            ctx.pointee.rc_buffer_size = Int32(clamping: s.bitRate)
        }, options: options)
    }

    /// The video bit rate now: what the next frames are encoded at.
    public var bitRate: Int { Int(context.pointee.bit_rate) }

    /// Changes a running video encoder's bit rate (average, VBV maximum and one second of VBV buffer, as
    /// `video` sets them); libx264 reconfigures itself before the next frame it is sent.
    public func setBitRate(_ bitRate: Int) {
        let rate = max(1000, bitRate)
        context.pointee.bit_rate = Int64(rate)
        context.pointee.rc_max_rate = Int64(rate)
        context.pointee.rc_buffer_size = Int32(clamping: rate)
    }

    /// AAC (fltp), with the AudioSpecificConfig in `extradata`.
    public static func audio(_ s: AudioEncoderSettings) throws -> Encoder {
        try Encoder(codecName: s.codecName, configure: { ctx in
            ctx.pointee.sample_fmt = s.sampleFormat
            ctx.pointee.sample_rate = Int32(s.sampleRate)
            av_channel_layout_default(&ctx.pointee.ch_layout, Int32(s.channels))
            ctx.pointee.bit_rate = Int64(s.bitRate)
            ctx.pointee.time_base = AVRational(num: 1, den: Int32(s.sampleRate))
            ctx.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }, options: [])
    }

    /// An encoder that only packs raw frames: "rawvideo", "wrapped_avframe" (what yuv4mpegpipe takes) or a
    /// PCM codec ("pcm_s16le", "pcm_f32le"), for outputs of decoded media.
    public static func raw(video codecName: String, width: Int, height: Int, pixelFormat: AVPixelFormat,
                           frameRate: AVRational) throws -> Encoder {
        try Encoder(codecName: codecName, configure: { ctx in
            ctx.pointee.width = Int32(width)
            ctx.pointee.height = Int32(height)
            ctx.pointee.pix_fmt = pixelFormat
            ctx.pointee.time_base = av_inv_q(frameRate)
            ctx.pointee.framerate = frameRate
        }, options: [])
    }

    public static func raw(audio codecName: String, sampleRate: Int, channels: Int, sampleFormat: AVSampleFormat) throws -> Encoder {
        try Encoder(codecName: codecName, configure: { ctx in
            ctx.pointee.sample_fmt = sampleFormat
            ctx.pointee.sample_rate = Int32(sampleRate)
            av_channel_layout_default(&ctx.pointee.ch_layout, Int32(channels))
            ctx.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        }, options: [])
    }

    /// Sends a frame (nil flushes).
    public func send(_ frame: Frame?) throws {
        let ret = avcodec_send_frame(context, frame?.pointer)
        if ret == cff_averror_eof() { return }
        try FFmpegError.check(ret, "encode")
    }

    public func receive(into packet: Packet) throws -> CodecStep {
        let ret = avcodec_receive_packet(context, packet.pointer)
        if ret == cff_averror(EAGAIN) { return .needsInput }
        if ret == cff_averror_eof() { return .finished }
        try FFmpegError.check(ret, "encode")
        return .produced
    }
}
