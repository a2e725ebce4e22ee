import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// Decodes one input audio stream, resamples to fltp, regroups into 1024-sample frames, encodes AAC.
final class AudioTrackEncoder {
    let streamIndex: Int
    let track: TrackInfo
    private let decoder: Decoder
    private let encoder: Encoder
    private let resampler: Resampler
    private let fifo: AudioFIFO
    private let decoded: Frame
    private let chunk: Frame
    private let packet: Packet
    private let sampleRate: Int
    private var layout = AVChannelLayout()
    /// Samples handed to the encoder so far, offset by where the first audio started.
    private var nextSample: Int64?
    private(set) var framesOut = 0
    private(set) var framesDropped = 0

    init(input: InputMedia, streamIndex: Int, settings: PublishSettings) throws {
        guard let stream = input.stream(streamIndex) else {
            throw FFmpegError(operation: "audio input", message: "stream \(streamIndex) is missing")
        }
        self.streamIndex = streamIndex
        decoder = try Decoder(stream: stream)
        sampleRate = settings.audioSampleRate
        encoder = try Encoder.audio(AudioEncoderSettings(sampleRate: settings.audioSampleRate, channels: settings.audioChannels,
                                                         bitRate: settings.audioBitRate))
        resampler = try Resampler(sampleRate: settings.audioSampleRate, channels: settings.audioChannels, sampleFormat: AV_SAMPLE_FMT_FLTP)
        fifo = try AudioFIFO(sampleFormat: AV_SAMPLE_FMT_FLTP, channels: settings.audioChannels)
        decoded = try Frame()
        chunk = try Frame()
        packet = try Packet()
        av_channel_layout_default(&layout, Int32(settings.audioChannels))
        track = TrackInfo(kind: .audio, codec: "aac", sampleRate: settings.audioSampleRate, channels: settings.audioChannels,
                          bitRate: settings.audioBitRate, extradata: encoder.extradata.isEmpty ? nil : Data(encoder.extradata).base64EncodedString())
    }

    deinit { av_channel_layout_uninit(&layout) }

    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        try decoder.send(input)
        while try decoder.receive(into: decoded) == .produced {
            if nextSample == nil {
                let ts = decoded.pointer.pointee.best_effort_timestamp
                let micros = ts == cff_nopts_value() ? 0 : relative(ts)
                nextSample = av_rescale(micros, Int64(sampleRate), 1_000_000)
            }
            try fifo.write(try resampler.convert(decoded))
            decoded.unref()
            try encodeChunks(final: false, captureTime: captureTime, sink: sink)
        }
        if input == nil {
            if nextSample != nil { try fifo.write(try resampler.convert(nil)) }
            try encodeChunks(final: true, captureTime: captureTime, sink: sink)
            try encoder.send(nil)
            try receivePackets(captureTime: captureTime, sink: sink)
        }
    }

    private func encodeChunks(final: Bool, captureTime: UInt64, sink: MediaSink) throws {
        let size = max(1, encoder.frameSize)
        while fifo.count >= size || (final && fifo.count > 0) {
            let n = min(size, fifo.count)
            try fifo.read(samples: n, into: chunk, sampleRate: sampleRate, layout: layout)
            let start = nextSample ?? 0
            chunk.pts = start
            nextSample = start + Int64(n)
            try encoder.send(chunk)
            try receivePackets(captureTime: captureTime, sink: sink)
        }
    }

    private func receivePackets(captureTime: UInt64, sink: MediaSink) throws {
        while try encoder.receive(into: packet) == .produced {
            let tb = encoder.timeBase
            let us = AVRational(num: 1, den: 1_000_000)
            let sent = sink.send(track: .audio, keyframe: true, pts: av_rescale_q(packet.pts, tb, us),
                                 dts: av_rescale_q(packet.dts, tb, us), captureTime: captureTime,
                                 payload: UnsafeRawBufferPointer(packet.bytes))
            if sent { framesOut += 1 } else { framesDropped += 1 }
            packet.unref()
        }
    }
}
