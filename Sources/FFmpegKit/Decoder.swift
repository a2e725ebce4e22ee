import CFFmpeg

/// What a send/receive step of a codec produced.
public enum CodecStep {
    case produced
    case needsInput
    case finished
}

/// A decoder for one input stream.
public final class Decoder {
    public let context: UnsafeMutablePointer<AVCodecContext>
    public let timeBase: AVRational

    public init(stream: UnsafeMutablePointer<AVStream>) throws {
        guard let par = stream.pointee.codecpar else {
            throw FFmpegError(operation: "decoder", message: "stream has no codec parameters")
        }
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw FFmpegError(operation: "decoder", message: "no decoder for codec \(name)", code: cff_averror_decoder_not_found())
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "avcodec_alloc_context3")
        }
        context = ctx
        timeBase = stream.pointee.time_base
        try FFmpegError.check(avcodec_parameters_to_context(ctx, par), "avcodec_parameters_to_context")
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.framerate = stream.pointee.r_frame_rate
        try FFmpegError.check(avcodec_open2(ctx, codec, nil), "open decoder \(String(cString: codec.pointee.name))")
    }

    /// A decoder for a codec by name ("h264", "aac"), for packets in µs, tuned for latency: one thread
    /// for H.264 (frame threads hold frames back), output as soon as a frame is complete.
    public init(codecName: String, extradata: [UInt8]) throws {
        guard let codec = avcodec_find_decoder_by_name(codecName) else {
            throw FFmpegError(operation: "decoder", message: "no decoder for codec \(codecName)", code: cff_averror_decoder_not_found())
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "avcodec_alloc_context3")
        }
        context = ctx
        timeBase = AVRational(num: 1, den: 1_000_000)
        ctx.pointee.pkt_timebase = timeBase
        ctx.pointee.flags |= Int32(AV_CODEC_FLAG_LOW_DELAY)
        ctx.pointee.thread_count = 1
        if !extradata.isEmpty {
            guard let buffer = av_mallocz(extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE))?.assumingMemoryBound(to: UInt8.self) else {
                throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_mallocz")
            }
            _ = UnsafeMutableBufferPointer(start: buffer, count: extradata.count).initialize(from: extradata)
            ctx.pointee.extradata = buffer
            ctx.pointee.extradata_size = Int32(extradata.count)
        }
        try FFmpegError.check(avcodec_open2(ctx, codec, nil), "open decoder \(codecName)")
    }

    deinit {
        var c: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&c)
    }

    /// Sends a packet (nil flushes).
    public func send(_ packet: Packet?) throws {
        let ret = avcodec_send_packet(context, packet?.pointer)
        if ret == cff_averror_eof() { return }
        try FFmpegError.check(ret, "decode")
    }

    public func receive(into frame: Frame) throws -> CodecStep {
        let ret = avcodec_receive_frame(context, frame.pointer)
        if ret == cff_averror(EAGAIN) { return .needsInput }
        if ret == cff_averror_eof() { return .finished }
        try FFmpegError.check(ret, "decode")
        return .produced
    }
}
