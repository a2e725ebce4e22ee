import CFFmpeg
import FFmpegKit

/// Turns decoded audio of any format, rate and layout into AAC packets: resamples to fltp, regroups into the
/// encoder's 1024-sample frames, encodes. Shared by the publisher (capture → AAC) and by players that cannot keep
/// a stream's Opus (Opus → AAC).
final class AACFrameEncoder {
    private let encoder: Encoder
    private let resampler: Resampler
    private let fifo: AudioFIFO
    private let chunk: Frame
    private let packet: Packet
    let sampleRate: Int
    let channels: Int
    private var layout = AVChannelLayout()
    /// The sample number of the next frame handed to the encoder; set by the first decoded frame.
    private var nextSample: Int64?
    /// Measures what is encoded (`PublishSettings.soundLevelIntervalMs`); each window's level goes to `onSoundLevel`.
    var levelMeter: SoundLevelMeter?
    var onSoundLevel: ((UInt8) -> Void)?

    /// `codecName`: "aac", or "libopus" (48 kHz, 20 ms frames) for WebRTC players of an AAC stream.
    init(sampleRate: Int, channels: Int, bitRate: Int, codecName: String = "aac") throws {
        let settings = AudioEncoderSettings(codecName: codecName, sampleRate: sampleRate, channels: channels, bitRate: bitRate)
        encoder = try Encoder.audio(settings)
        resampler = try Resampler(sampleRate: sampleRate, channels: channels, sampleFormat: settings.sampleFormat)
        fifo = try AudioFIFO(sampleFormat: settings.sampleFormat, channels: channels)
        chunk = try Frame()
        packet = try Packet()
        self.sampleRate = sampleRate
        self.channels = channels
        av_channel_layout_default(&layout, Int32(channels))
    }

    deinit { av_channel_layout_uninit(&layout) }

    /// The AudioSpecificConfig.
    var extradata: [UInt8] { encoder.extradata }

    /// Whether the first frame has set the timeline.
    var started: Bool { nextSample != nil }

    /// Adds one decoded frame; `startMicros` is asked once, for the first frame's time. `emit` gets each AAC packet
    /// with its pts and dts in µs.
    func add(_ decoded: Frame, startMicros: () -> Int64, emit: (Packet, Int64, Int64) throws -> Void) throws {
        if nextSample == nil { nextSample = av_rescale(startMicros(), Int64(sampleRate), 1_000_000) }
        try fifo.write(try resampler.convert(decoded))
        try encodeChunks(final: false, emit: emit)
    }

    /// Drains the resampler, the FIFO (a last short frame) and the encoder.
    func finish(emit: (Packet, Int64, Int64) throws -> Void) throws {
        if nextSample != nil { try fifo.write(try resampler.convert(nil)) }
        try encodeChunks(final: true, emit: emit)
        try encoder.send(nil)
        try receivePackets(emit: emit)
    }

    private func encodeChunks(final: Bool, emit: (Packet, Int64, Int64) throws -> Void) throws {
        let size = max(1, encoder.frameSize)
        while fifo.count >= size || (final && fifo.count > 0) {
            let n = min(size, fifo.count)
            try fifo.read(samples: n, into: chunk, sampleRate: sampleRate, layout: layout)
            if var meter = levelMeter, let meanSquare = chunk.planarFloatMeanSquare {
                let level = meter.add(meanSquare: meanSquare, samples: n)
                levelMeter = meter
                if let level { onSoundLevel?(level) }
            }
            let start = nextSample ?? 0
            chunk.pts = start
            nextSample = start + Int64(n)
            try encoder.send(chunk)
            try receivePackets(emit: emit)
        }
    }

    private func receivePackets(emit: (Packet, Int64, Int64) throws -> Void) throws {
        while try encoder.receive(into: packet) == .produced {
            let tb = encoder.timeBase
            let us = AVRational(num: 1, den: 1_000_000)
            try emit(packet, av_rescale_q(packet.pts, tb, us), av_rescale_q(packet.dts, tb, us))
            packet.unref()
        }
    }
}
