import CFFmpeg

/// Owns one libavcodec bitstream filter (e.g. h264_mp4toannexb), set up from an input stream's parameters.
public final class BitstreamFilter {
    private var context: UnsafeMutablePointer<AVBSFContext>?

    public init(name: String, parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational) throws {
        guard let filter = av_bsf_get_by_name(name) else {
            throw FFmpegError(operation: "bitstream filter \(name)", message: "not available in this libavcodec")
        }
        try FFmpegError.check(av_bsf_alloc(filter, &context), "av_bsf_alloc(\(name))")
        guard let context else { throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_bsf_alloc(\(name))") }
        try FFmpegError.check(avcodec_parameters_copy(context.pointee.par_in, parameters), "avcodec_parameters_copy")
        context.pointee.time_base_in = timeBase
        try FFmpegError.check(av_bsf_init(context), "av_bsf_init(\(name))")
    }

    deinit {
        av_bsf_free(&context)
    }

    /// Filters one packet (nil flushes); `output` is called for each packet that comes out.
    public func filter(_ packet: Packet?, output: (Packet) throws -> Void) throws {
        guard let context else { return }
        try FFmpegError.check(av_bsf_send_packet(context, packet?.pointer), "av_bsf_send_packet")
        let out = try Packet()
        while true {
            let ret = av_bsf_receive_packet(context, out.pointer)
            if ret == cff_averror(EAGAIN) || ret == cff_averror_eof() { break }
            try FFmpegError.check(ret, "av_bsf_receive_packet")
            try output(out)
            out.unref()
        }
    }
}
