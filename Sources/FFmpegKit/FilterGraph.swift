import CFFmpeg

/// A libavfilter graph fed from Swift and read back from Swift: its sources are `buffer` / `abuffer`
/// filters (one per `Input`, labelled in the description as `[name]`), its sinks `buffersink` /
/// `abuffersink` (one per output label). The description is ordinary filtergraph syntax
/// ("[a]scale=320:180[b];[bg][b]overlay=10:10[out]"); the formats a sink should get are part of it
/// (`format=yuv420p`, `aformat=...`).
public final class FilterGraph {
    /// What one source of the graph carries. Timestamps of pushed frames are in `timeBase`.
    public struct Input: Sendable, Equatable {
        public enum Media: Sendable, Equatable {
            /// Video of a size and libav pixel format (`Frame.format`).
            case video(width: Int, height: Int, pixelFormat: Int32)
            /// Planar float audio at a rate and channel count (what `AudioSampleQueue` hands out).
            case audio(sampleRate: Int, channels: Int)
        }
        public var name: String
        public var media: Media
        /// The time base of the frames pushed: 1/fps for video, 1/rate for audio, as num/den.
        public var timeBase: (num: Int, den: Int)

        public init(name: String, media: Media, timeBase: (num: Int, den: Int)) {
            self.name = name
            self.media = media
            self.timeBase = timeBase
        }

        public static func == (a: Input, b: Input) -> Bool {
            a.name == b.name && a.media == b.media && a.timeBase == b.timeBase
        }
    }

    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var sources: [UnsafeMutablePointer<AVFilterContext>?] = []
    private var sinks: [UnsafeMutablePointer<AVFilterContext>?] = []
    public let description: String

    /// Builds and configures the graph; a description libavfilter refuses throws with its message.
    public init(description: String, inputs: [Input], outputs: [(name: String, video: Bool)]) throws {
        self.description = description
        guard let g = avfilter_graph_alloc() else { throw FFmpegError(code: cff_averror(ENOMEM), operation: "avfilter_graph_alloc") }
        graph = g
        var outs: UnsafeMutablePointer<AVFilterInOut>?   // the graph's open outputs: our sources
        var ins: UnsafeMutablePointer<AVFilterInOut>?    // the graph's open inputs: our sinks
        defer {
            avfilter_inout_free(&outs)
            avfilter_inout_free(&ins)
        }
        for input in inputs.reversed() {
            let args: String
            let filter: String
            switch input.media {
            case .video(let w, let h, let format):
                filter = "buffer"
                args = "video_size=\(w)x\(h):pix_fmt=\(format):time_base=\(input.timeBase.num)/\(input.timeBase.den):pixel_aspect=1/1"
            case .audio(let rate, let channels):
                filter = "abuffer"
                var layout = AVChannelLayout()
                av_channel_layout_default(&layout, Int32(channels))
                var name = [CChar](repeating: 0, count: 64)
                av_channel_layout_describe(&layout, &name, name.count)
                av_channel_layout_uninit(&layout)
                let layoutName = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                args = "time_base=\(input.timeBase.num)/\(input.timeBase.den):sample_rate=\(rate):sample_fmt=fltp:channel_layout=\(layoutName)"
            }
            var ctx: UnsafeMutablePointer<AVFilterContext>?
            try FFmpegError.check(avfilter_graph_create_filter(&ctx, avfilter_get_by_name(filter), "src_\(input.name)", args, nil, g),
                                  "filter source [\(input.name)] (\(args))")
            sources.insert(ctx, at: 0)
            outs = try Self.link(name: input.name, filter: ctx, next: outs)
        }
        for output in outputs.reversed() {
            var ctx: UnsafeMutablePointer<AVFilterContext>?
            try FFmpegError.check(avfilter_graph_create_filter(&ctx, avfilter_get_by_name(output.video ? "buffersink" : "abuffersink"),
                                                               "sink_\(output.name)", nil, nil, g), "filter sink [\(output.name)]")
            sinks.insert(ctx, at: 0)
            ins = try Self.link(name: output.name, filter: ctx, next: ins)
        }
        try FFmpegError.check(avfilter_graph_parse_ptr(g, description, &ins, &outs, nil), "filter graph \"\(description)\"")
        try FFmpegError.check(avfilter_graph_config(g, nil), "configure filter graph \"\(description)\"")
    }

    private static func link(name: String, filter: UnsafeMutablePointer<AVFilterContext>?, next: UnsafeMutablePointer<AVFilterInOut>?) throws -> UnsafeMutablePointer<AVFilterInOut> {
        guard let item = avfilter_inout_alloc() else { throw FFmpegError(code: cff_averror(ENOMEM), operation: "avfilter_inout_alloc") }
        item.pointee.name = av_strdup(name)
        item.pointee.filter_ctx = filter
        item.pointee.pad_idx = 0
        item.pointee.next = next
        return item
    }

    deinit { avfilter_graph_free(&graph) }

    /// Hands a frame to source `input` (the graph takes its own reference; `frame` stays the caller's).
    /// Its `pts` is in that input's time base.
    public func push(_ frame: Frame, into input: Int) throws {
        try FFmpegError.check(av_buffersrc_add_frame_flags(sources[input], frame.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)),
                              "filter graph input \(input)")
    }

    /// Takes the next frame sink `output` has (into `frame`): `.needsInput` when it needs more pushed first.
    public func pull(from output: Int, into frame: Frame) throws -> CodecStep {
        frame.unref()
        let ret = av_buffersink_get_frame(sinks[output], frame.pointer)
        if ret == cff_averror(EAGAIN) { return .needsInput }
        if ret == cff_averror_eof() { return .finished }
        try FFmpegError.check(ret, "filter graph output \(output)")
        return .produced
    }

    /// One frame of a source-only graph (`color=...`, `testsrc=...`): e.g. a background picture.
    public static func single(_ description: String) throws -> Frame {
        let graph = try FilterGraph(description: description + "[out]", inputs: [], outputs: [("out", true)])
        let frame = try Frame()
        guard try graph.pull(from: 0, into: frame) == .produced else {
            throw FFmpegError(operation: "filter graph \"\(description)\"", message: "made no frame")
        }
        return frame
    }
}

/// Colours as ffmpeg's filters name them ("red", "0x336699", "#336699@0.5", "random" excluded).
public enum FilterColor {
    /// Why libavutil would not take `text` as a colour, or nil when it would.
    public static func problem(with text: String) -> String? {
        if text.lowercased() == "random" { return "\"random\" is not a fixed colour" }
        var rgba = [UInt8](repeating: 0, count: 4)
        return av_parse_color(&rgba, text, -1, nil) < 0 ? "\"\(text)\" is not a colour (a name such as black or navy, or 0xRRGGBB)" : nil
    }
}
