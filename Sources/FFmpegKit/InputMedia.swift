import CFFmpeg

/// A demuxer or capture device opened with libavformat / libavdevice.
public final class InputMedia {
    public let context: UnsafeMutablePointer<AVFormatContext>
    public let url: String
    /// libav's short name for the input format ("lavfi", "v4l2", "mov,mp4,m4a,3gp,3g2,mj2"...).
    public let formatName: String
    /// A capture device that delivers at its own pace (camera, microphone, screen): no pacing needed.
    public let isLiveDevice: Bool
    /// stdin, a pipe or a network stream: whoever sends it sets the pace.
    public var isStream: Bool {
        if url == "-" || url.hasPrefix("pipe:") { return true }
        let parts = url.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[1].hasPrefix("//"), parts[0].allSatisfy({ $0.isLetter || $0 == "+" }) else { return false }
        return parts[0].lowercased() != "file"
    }
    private let interrupt: InterruptFlag

    /// Opens `url` (`-` is stdin) with an optional forced format (`-f`) and demuxer/device options.
    public init(url: String, format: String?, options: [(String, String)] = [], interrupt: InterruptFlag) throws {
        FFmpegLibrary.registerDevices()
        self.url = url
        self.interrupt = interrupt
        var inputFormat: UnsafePointer<AVInputFormat>? = nil
        if let format {
            guard let f = av_find_input_format(format) else {
                throw FFmpegError(operation: "input format \"\(format)\"", message: "unknown input format (see `ffmpeg -formats` / `-devices`)",
                                  code: cff_averror(EINVAL))
            }
            inputFormat = f
        }
        guard let ctx = avformat_alloc_context() else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "avformat_alloc_context")
        }
        cff_install_interrupt(ctx, interrupt.storage)
        var ctxOpt: UnsafeMutablePointer<AVFormatContext>? = ctx
        var dict = OptionDictionary(options)
        defer { dict.free() }
        let path = url == "-" ? "pipe:0" : url
        let ret = avformat_open_input(&ctxOpt, path, inputFormat, &dict.pointer)
        guard ret >= 0, let opened = ctxOpt else {
            // avformat_open_input frees the context on failure.
            throw FFmpegError(code: ret, operation: "open input \"\(url)\"")
        }
        let unused = dict.remainingKeys
        if !unused.isEmpty {
            var c: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&c)
            throw FFmpegError(operation: "open input \"\(url)\"", message: "option not recognised: \(unused.joined(separator: ", "))")
        }
        context = opened
        let name = opened.pointee.iformat.map { String(cString: $0.pointee.name) } ?? (format ?? "unknown")
        formatName = name
        isLiveDevice = Self.liveDeviceFormats.contains { FFmpegLibrary.formatName(name, answers: $0) }
        do {
            try FFmpegError.check(avformat_find_stream_info(opened, nil), "read stream info of \"\(url)\"")
        } catch {
            var c: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&c)
            throw error
        }
    }

    deinit {
        var c: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&c)
    }

    static let liveDeviceFormats: Set<String> = [
        "v4l2", "alsa", "pulse", "x11grab", "xcbgrab", "fbdev", "kmsgrab",
        "jack", "oss", "openal", "libdc1394", "iec61883", "decklink", "dshow", "avfoundation", "gdigrab",
    ]

    public var streamCount: Int { Int(context.pointee.nb_streams) }

    public func stream(_ index: Int) -> UnsafeMutablePointer<AVStream>? {
        guard index >= 0, index < streamCount, let streams = context.pointee.streams else { return nil }
        return streams[index]
    }

    /// The index of the best stream of a kind, or nil when the input has none.
    public func bestStream(_ type: AVMediaType) -> Int? {
        let ret = av_find_best_stream(context, type, -1, -1, nil, 0)
        return ret >= 0 ? Int(ret) : nil
    }

    public func timeBase(ofStream index: Int) -> AVRational {
        stream(index)?.pointee.time_base ?? AVRational(num: 1, den: 1_000_000)
    }

    /// Reads the next packet. Returns false at the end of input; throws on errors (AVERROR_EXIT when interrupted).
    public func read(into packet: Packet) throws -> Bool {
        packet.unref()
        let ret = av_read_frame(context, packet.pointer)
        if ret == cff_averror_eof() { return false }
        if ret < 0 && interrupt.isRaised { throw FFmpegError(code: cff_averror_exit(), operation: "read \"\(url)\"") }
        try FFmpegError.check(ret, "read \"\(url)\"")
        return true
    }
}
