import CFFmpeg

/// Decoded audio of any format, rate and layout, kept as planar float at one rate and channel count, read
/// back in chunks of a fixed size: what a mixer takes from each input every tick. A chunk the queue cannot
/// fill is padded with silence.
public final class AudioSampleQueue {
    public let sampleRate: Int
    public let channels: Int
    private let resampler: Resampler
    private let fifo: AudioFIFO
    private var layout = AVChannelLayout()

    public init(sampleRate: Int, channels: Int) throws {
        self.sampleRate = sampleRate
        self.channels = channels
        resampler = try Resampler(sampleRate: sampleRate, channels: channels, sampleFormat: AV_SAMPLE_FMT_FLTP)
        fifo = try AudioFIFO(sampleFormat: AV_SAMPLE_FMT_FLTP, channels: channels)
        av_channel_layout_default(&layout, Int32(channels))
    }

    deinit { av_channel_layout_uninit(&layout) }

    /// Samples waiting.
    public var count: Int { fifo.count }

    /// The time the waiting samples take, in µs.
    public var queuedMicros: Int64 { Int64(count) * 1_000_000 / Int64(sampleRate) }

    /// Converts and appends a decoded frame.
    public func append(_ frame: Frame) throws {
        try fifo.write(try resampler.convert(frame))
    }

    /// Forgets the oldest `samples` samples (a queue grown past its latency bound).
    public func drop(_ samples: Int) {
        fifo.drain(samples: min(samples, count))
    }

    /// Reads `samples` samples into `frame` with `pts`; what the queue lacks is silence. Returns how many
    /// samples were real.
    @discardableResult
    public func read(_ samples: Int, into frame: Frame, pts: Int64) throws -> Int {
        let real = min(samples, count)
        try frame.allocateAudio(samples: samples, sampleRate: sampleRate, format: AV_SAMPLE_FMT_FLTP, layout: layout)
        try FFmpegError.check(av_samples_set_silence(frame.pointer.pointee.extended_data, 0, Int32(samples), Int32(channels), AV_SAMPLE_FMT_FLTP),
                              "av_samples_set_silence")
        if real > 0, let data = frame.pointer.pointee.extended_data {
            let planes = UnsafeMutableRawPointer(data).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            try FFmpegError.check(av_audio_fifo_read(fifo.pointer, planes, Int32(real)), "av_audio_fifo_read")
        }
        frame.pointer.pointee.nb_samples = Int32(samples)
        frame.pts = pts
        return real
    }

    /// A chunk of silence in this queue's format.
    public func silence(_ samples: Int, into frame: Frame, pts: Int64) throws {
        try frame.allocateAudio(samples: samples, sampleRate: sampleRate, format: AV_SAMPLE_FMT_FLTP, layout: layout)
        try FFmpegError.check(av_samples_set_silence(frame.pointer.pointee.extended_data, 0, Int32(samples), Int32(channels), AV_SAMPLE_FMT_FLTP),
                              "av_samples_set_silence")
        frame.pts = pts
    }
}
