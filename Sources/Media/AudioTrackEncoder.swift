import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// Decodes one input audio stream and encodes it as AAC for publishing.
final class AudioTrackEncoder {
    let streamIndex: Int
    let track: TrackInfo
    private let decoder: Decoder
    private let aac: AACFrameEncoder
    private let decoded: Frame
    private(set) var framesOut = 0
    private(set) var framesDropped = 0

    init(input: InputMedia, streamIndex: Int, settings: PublishSettings) throws {
        guard let stream = input.stream(streamIndex) else {
            throw FFmpegError(operation: "audio input", message: "stream \(streamIndex) is missing")
        }
        self.streamIndex = streamIndex
        decoder = try Decoder(stream: stream)
        aac = try AACFrameEncoder(sampleRate: settings.audioSampleRate, channels: settings.audioChannels, bitRate: settings.audioBitRate)
        decoded = try Frame()
        if let ms = settings.soundLevelIntervalMs, ms > 0 {
            aac.levelMeter = SoundLevelMeter(windowSamples: settings.audioSampleRate * ms / 1000)
        }
        track = TrackInfo(kind: .audio, codec: "aac", sampleRate: settings.audioSampleRate, channels: settings.audioChannels,
                          bitRate: settings.audioBitRate, extradata: aac.extradata.isEmpty ? nil : Data(aac.extradata).base64EncodedString())
    }

    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        let send: (Packet, Int64, Int64) throws -> Void = { [self] packet, pts, dts in
            let sent = sink.send(track: .audio, keyframe: true, pts: pts, dts: dts, captureTime: captureTime,
                                 payload: UnsafeRawBufferPointer(packet.bytes))
            if sent { framesOut += 1 } else { framesDropped += 1 }
        }
        aac.onSoundLevel = { sink.noteSoundLevel($0) }
        try decoder.send(input)
        while try decoder.receive(into: decoded) == .produced {
            let ts = decoded.pointer.pointee.best_effort_timestamp
            try aac.add(decoded, startMicros: { ts == cff_nopts_value() ? 0 : relative(ts) }, emit: send)
            decoded.unref()
        }
        if input == nil { try aac.finish(emit: send) }
    }
}
