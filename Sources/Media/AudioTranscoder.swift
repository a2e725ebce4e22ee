import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// Re-encodes a played audio track as AAC, for containers that cannot carry its codec (Opus in FLV) or on
/// request (`--audio-codec aac`). Packets keep the stream's µs timeline.
final class AudioTranscoder {
    /// The track as written: AAC, same rate and channels.
    let track: TrackInfo
    private let decoder: Decoder
    private let aac: AACFrameEncoder
    private let decoded: Frame

    init(from source: TrackInfo) throws {
        decoder = try Decoder(codecName: source.codec, extradata: TrackExtradata.bytes(source))
        // AAC takes 48 kHz and below; Opus is always decoded at 48 kHz.
        let rate = min(48000, source.sampleRate ?? 48000)
        let channels = max(1, min(2, source.channels ?? 2))
        aac = try AACFrameEncoder(sampleRate: rate, channels: channels, bitRate: channels * 64000)
        decoded = try Frame()
        track = TrackInfo(kind: .audio, codec: "aac", sampleRate: rate, channels: channels, bitRate: channels * 64000,
                          extradata: Data(aac.extradata).base64EncodedString())
    }

    /// Decodes one frame (µs timestamps) and hands out the AAC packets it completes.
    func transcode(_ payload: [UInt8], pts: Int64, emit: (Packet, Int64, Int64) throws -> Void) throws {
        let packet = try Packet(copying: payload)
        packet.pts = pts
        packet.dts = pts
        try decoder.send(packet)
        while try decoder.receive(into: decoded) == .produced {
            try aac.add(decoded, startMicros: { pts }, emit: emit)
            decoded.unref()
        }
    }

    /// Writes out what the encoder holds.
    func finish(emit: (Packet, Int64, Int64) throws -> Void) throws {
        try decoder.send(nil)
        while try decoder.receive(into: decoded) == .produced {
            try aac.add(decoded, startMicros: { 0 }, emit: emit)
            decoded.unref()
        }
        try aac.finish(emit: emit)
    }
}
