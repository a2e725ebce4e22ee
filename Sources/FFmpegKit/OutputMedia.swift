import CFFmpeg

/// What a muxer needs to know about one stream it writes.
public struct OutputStreamParameters: Sendable, Equatable {
    public enum Kind: Sendable { case video, audio }
    public var kind: Kind
    /// libavcodec's codec name: "h264", "aac", "opus".
    public var codecName: String
    public var width = 0
    public var height = 0
    public var frameRate: AVRational?
    /// The stream's time base; nil: 1/90000 for video, 1/sample rate for audio (a muxer may choose its own).
    /// Raw video outputs take 1/frame rate: yuv4mpegpipe writes the inverse of the time base as its F header.
    public var timeBase: AVRational?
    public var sampleRate = 0
    public var channels = 0
    public var bitRate = 0
    public var extradata: [UInt8] = []
    /// Raw video and PCM outputs say what their frames hold.
    public var pixelFormat = AV_PIX_FMT_YUV420P
    public var sampleFormat = AV_SAMPLE_FMT_FLTP

    public init(kind: Kind, codecName: String) {
        self.kind = kind
        self.codecName = codecName
    }
}

extension AVRational: @retroactive Equatable {
    public static func == (a: AVRational, b: AVRational) -> Bool { a.num == b.num && a.den == b.den }
}

/// A muxer writing to a file, a URL or stdout (`-`).
public final class OutputMedia {
    public let context: UnsafeMutablePointer<AVFormatContext>
    public let url: String
    public let formatName: String
    private var headerWritten = false
    private var finished = false
    /// A call failed: the output is not written to again (no trailer after a dropped connection).
    private var broken = false
    /// Flush the I/O buffer after every packet (live pipes).
    public var flushEachPacket: Bool
    /// For a server's URL: how long opening, the header, one packet or the trailer may block before it
    /// fails as timed out (ETIMEDOUT), e.g. a host that never answers or a server that stopped reading.
    /// 0: as long as the protocol waits.
    public var ioTimeoutMicros: Int64 = 0
    /// The deadline libavformat's interrupt callback reads (monotonic µs, 0 none).
    private let deadline: UnsafeMutablePointer<Int64>

    public init(url: String, format: String?, flushEachPacket: Bool = false) throws {
        FFmpegLibrary.registerDevices()  // output devices (sdl2, xv) are formats too
        let path = url == "-" ? "pipe:1" : url
        self.url = url
        self.flushEachPacket = flushEachPacket
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let ret = avformat_alloc_output_context2(&ctx, nil, format, path)
        guard ret >= 0, let ctx else {
            let what = format.map { "format \"\($0)\"" } ?? "a format for \"\(url)\" (use --format)"
            throw FFmpegError(code: ret < 0 ? ret : cff_averror(EINVAL), operation: "choose \(what)")
        }
        context = ctx
        formatName = ctx.pointee.oformat.map { String(cString: $0.pointee.name) } ?? (format ?? "?")
        deadline = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        deadline.initialize(to: 0)
        cff_install_deadline(ctx, deadline)
    }

    /// Runs one blocking libav call under `ioTimeoutMicros`; a call the deadline cut short is ETIMEDOUT.
    private func timed(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws {
        let limit = ioTimeoutMicros
        if limit > 0 { cff_set_deadline(deadline, FFmpegLibrary.monotonicMicros() + limit) }
        let ret = call()
        let expired = limit > 0 && FFmpegLibrary.monotonicMicros() > deadline.pointee
        cff_set_deadline(deadline, 0)
        if ret < 0 { broken = true }
        if ret < 0 && expired {
            throw FFmpegError(operation: operation(), message: "no answer within \(Double(limit) / 1_000_000) s", code: cff_averror(ETIMEDOUT))
        }
        try FFmpegError.check(ret, operation())
    }

    deinit {
        if headerWritten && !finished { try? finish() }
        if !finished, context.pointee.oformat.map({ $0.pointee.flags & AVFMT_NOFILE == 0 }) ?? false {
            avio_closep(&context.pointee.pb)
        }
        avformat_free_context(context)
        deadline.deallocate()
    }

    public var streamCount: Int { Int(context.pointee.nb_streams) }

    /// Adds a stream; returns its index.
    @discardableResult
    public func addStream(_ p: OutputStreamParameters) throws -> Int {
        guard let descriptor = avcodec_descriptor_get_by_name(p.codecName) else {
            throw FFmpegError(operation: "add \(p.codecName) stream", message: "libavcodec does not know codec \(p.codecName)")
        }
        guard let stream = avformat_new_stream(context, nil), let par = stream.pointee.codecpar else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "avformat_new_stream")
        }
        par.pointee.codec_id = descriptor.pointee.id
        par.pointee.bit_rate = Int64(p.bitRate)
        switch p.kind {
        case .video:
            par.pointee.codec_type = AVMEDIA_TYPE_VIDEO
            par.pointee.width = Int32(p.width)
            par.pointee.height = Int32(p.height)
            par.pointee.format = p.pixelFormat.rawValue
            if let fr = p.frameRate {
                stream.pointee.avg_frame_rate = fr
                stream.pointee.r_frame_rate = fr
            }
            stream.pointee.time_base = p.timeBase ?? AVRational(num: 1, den: 90000)
        case .audio:
            par.pointee.codec_type = AVMEDIA_TYPE_AUDIO
            par.pointee.sample_rate = Int32(p.sampleRate)
            av_channel_layout_default(&par.pointee.ch_layout, Int32(max(1, p.channels)))
            par.pointee.format = p.sampleFormat.rawValue
            par.pointee.frame_size = p.codecName == "aac" ? 1024 : 0
            stream.pointee.time_base = p.timeBase ?? AVRational(num: 1, den: Int32(max(1, p.sampleRate)))
        }
        if !p.extradata.isEmpty {
            let size = p.extradata.count
            guard let buf = av_mallocz(size + Int(AV_INPUT_BUFFER_PADDING_SIZE))?.assumingMemoryBound(to: UInt8.self) else {
                throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_mallocz")
            }
            _ = UnsafeMutableBufferPointer(start: buf, count: size).initialize(from: p.extradata)
            par.pointee.extradata = buf
            par.pointee.extradata_size = Int32(size)
        }
        return Int(stream.pointee.index)
    }

    /// Opens the output and writes the header. `options` are muxer options (e.g. movflags).
    public func start(options: [(String, String)] = []) throws {
        if let of = context.pointee.oformat, of.pointee.flags & AVFMT_NOFILE == 0 {
            let path = url == "-" ? "pipe:1" : url
            try timed("open output \"\(url)\"") { avio_open2(&context.pointee.pb, path, AVIO_FLAG_WRITE, &context.pointee.interrupt_callback, nil) }
        }
        var dict = OptionDictionary(options)
        defer { dict.free() }
        try timed("write header of \"\(url)\"") { avformat_write_header(context, &dict.pointer) }
        headerWritten = true
    }

    /// The time base the muxer chose for a stream (valid after `start`).
    public func timeBase(ofStream index: Int) -> AVRational {
        guard index >= 0, index < streamCount, let streams = context.pointee.streams, let s = streams[index] else {
            return AVRational(num: 1, den: 1_000_000)
        }
        return s.pointee.time_base
    }

    /// Writes a packet whose timestamps are in `timeBase`.
    public func write(_ packet: Packet, stream index: Int, timeBase: AVRational) throws {
        packet.streamIndex = index
        packet.rescaleTimestamps(from: timeBase, to: self.timeBase(ofStream: index))
        try timed("write packet to \"\(url)\"") {
            let ret = av_write_frame(context, packet.pointer)
            if ret >= 0, flushEachPacket, let pb = context.pointee.pb {
                avio_flush(pb)
                if pb.pointee.error < 0 { return pb.pointee.error }
            }
            return ret
        }
    }

    /// Writes the trailer and closes the output. Safe to call once; later calls do nothing.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        var firstError: Error? = nil
        if headerWritten && !broken {
            do { try timed("write trailer of \"\(url)\"") { av_write_trailer(context) } } catch { firstError = error }
        }
        if let of = context.pointee.oformat, of.pointee.flags & AVFMT_NOFILE == 0 {
            if let pb = context.pointee.pb { avio_flush(pb) }
            avio_closep(&context.pointee.pb)
        }
        if let firstError { throw firstError }
    }

    /// The muxer libavformat would pick for a file name, or nil.
    public static func guessFormat(forFileName name: String) -> String? {
        guard let f = av_guess_format(nil, name, nil) else { return nil }
        return String(cString: f.pointee.name)
    }
}
