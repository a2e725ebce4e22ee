import CFFmpeg

/// Converts audio to the encoder's sample format, rate and channel count with libswresample.
public final class Resampler {
    private var context: OpaquePointer?
    public let sampleRate: Int
    public let channels: Int
    public let sampleFormat: AVSampleFormat
    private var layout = AVChannelLayout()
    private let output: Frame
    private var configuredFrom: (format: Int32, rate: Int32, channels: Int32)?

    public init(sampleRate: Int, channels: Int, sampleFormat: AVSampleFormat) throws {
        self.sampleRate = sampleRate
        self.channels = channels
        self.sampleFormat = sampleFormat
        av_channel_layout_default(&layout, Int32(channels))
        output = try Frame()
    }

    deinit {
        swr_free(&context)
        av_channel_layout_uninit(&layout)
    }

    private func configure(for frame: Frame) throws {
        let key = (frame.format, frame.pointer.pointee.sample_rate, frame.pointer.pointee.ch_layout.nb_channels)
        if let c = configuredFrom, c == key { return }
        swr_free(&context)
        var inLayout = frame.pointer.pointee.ch_layout
        let ret = swr_alloc_set_opts2(&context, &layout, sampleFormat, Int32(sampleRate),
                                      &inLayout, AVSampleFormat(rawValue: frame.format), frame.pointer.pointee.sample_rate, 0, nil)
        try FFmpegError.check(ret, "swr_alloc_set_opts2")
        try FFmpegError.check(swr_init(context), "swr_init")
        configuredFrom = key
    }

    /// Converts one frame (nil drains what the resampler holds). The result is owned by the resampler.
    public func convert(_ frame: Frame?) throws -> Frame {
        if let frame {
            // PCM from a container that names no layout (NUT, raw s16le) has channels in no order: swresample
            // takes such a layout for the default one when configured, then refuses the frame as changed.
            let layout = frame.pointer.pointee.ch_layout
            if layout.order == AV_CHANNEL_ORDER_UNSPEC || layout.nb_channels == 0 {
                let channels = max(1, layout.nb_channels)
                av_channel_layout_uninit(&frame.pointer.pointee.ch_layout)
                av_channel_layout_default(&frame.pointer.pointee.ch_layout, channels)
            }
            try configure(for: frame)
        }
        output.unref()
        guard context != nil else { return output }
        output.pointer.pointee.sample_rate = Int32(sampleRate)
        output.pointer.pointee.format = sampleFormat.rawValue
        try FFmpegError.check(av_channel_layout_copy(&output.pointer.pointee.ch_layout, &layout), "av_channel_layout_copy")
        try FFmpegError.check(swr_convert_frame(context, output.pointer, frame?.pointer), "swr_convert_frame")
        return output
    }
}

/// A FIFO of audio samples: AAC needs exactly `frameSize` samples per frame, capture devices deliver any count.
public final class AudioFIFO {
    let pointer: OpaquePointer
    public let sampleFormat: AVSampleFormat
    public let channels: Int

    public init(sampleFormat: AVSampleFormat, channels: Int) throws {
        guard let f = av_audio_fifo_alloc(sampleFormat, Int32(channels), 4096) else {
            throw FFmpegError(code: cff_averror(ENOMEM), operation: "av_audio_fifo_alloc")
        }
        pointer = f
        self.sampleFormat = sampleFormat
        self.channels = channels
    }

    deinit { av_audio_fifo_free(pointer) }

    public var count: Int { Int(av_audio_fifo_size(pointer)) }

    /// Forgets the oldest `samples` samples.
    public func drain(samples: Int) { av_audio_fifo_drain(pointer, Int32(samples)) }

    public func write(_ frame: Frame) throws {
        guard frame.sampleCount > 0, let data = frame.pointer.pointee.extended_data else { return }
        let planes = UnsafeMutableRawPointer(data).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        let ret = av_audio_fifo_write(pointer, planes, Int32(frame.sampleCount))
        try FFmpegError.check(ret, "av_audio_fifo_write")
    }

    /// Reads `samples` samples into `frame` (allocated here).
    public func read(samples: Int, into frame: Frame, sampleRate: Int, layout: AVChannelLayout) throws {
        try frame.allocateAudio(samples: samples, sampleRate: sampleRate, format: sampleFormat, layout: layout)
        guard let data = frame.pointer.pointee.extended_data else { return }
        let planes = UnsafeMutableRawPointer(data).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        let ret = av_audio_fifo_read(pointer, planes, Int32(samples))
        try FFmpegError.check(ret, "av_audio_fifo_read")
        frame.pointer.pointee.nb_samples = ret
    }
}
