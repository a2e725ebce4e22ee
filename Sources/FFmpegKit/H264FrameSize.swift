import CFFmpeg

extension H264AnnexB {
    /// The picture size (after cropping) the SPS of an access unit gives, read by libavcodec's H.264 parser;
    /// nil when the access unit has no SPS it can read. For streams whose track does not say its size (a
    /// browser's WHIP publish): muxers need it before the header.
    public static func frameSize(of accessUnit: [UInt8]) -> (width: Int, height: Int)? {
        guard !accessUnit.isEmpty, let parser = av_parser_init(Int32(AV_CODEC_ID_H264.rawValue)) else { return nil }
        defer { av_parser_close(parser) }
        var context = avcodec_alloc_context3(nil)
        guard context != nil else { return nil }
        defer { avcodec_free_context(&context) }
        // The access unit is one whole frame: parse it now instead of waiting for the next one's start.
        parser.pointee.flags |= PARSER_FLAG_COMPLETE_FRAMES
        var input = accessUnit + [UInt8](repeating: 0, count: 64)  // AV_INPUT_BUFFER_PADDING_SIZE
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize: Int32 = 0
        let parsed = input.withUnsafeMutableBufferPointer { buffer in
            av_parser_parse2(parser, context, &output, &outputSize, buffer.baseAddress, Int32(accessUnit.count),
                             Int64.min, Int64.min, 0)
        }
        guard parsed >= 0 else { return nil }
        let width = Int(parser.pointee.width), height = Int(parser.pointee.height)
        return width > 0 && height > 0 ? (width, height) : nil
    }
}
