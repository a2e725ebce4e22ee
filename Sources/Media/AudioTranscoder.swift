import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// Re-encodes a played audio track: as AAC for containers that cannot carry its codec (Opus in FLV) or on
/// request (`--audio-codec aac`); as Opus for the server's WebRTC players of an AAC stream (browsers play no
/// AAC over WebRTC). Packets keep the stream's µs timeline.
public final class AudioTranscoder {
    /// The track as written: AAC at the source's rate (48 kHz at most), or Opus at 48 kHz; same channels.
    public let track: TrackInfo
    private let decoder: Decoder
    private let aac: AACFrameEncoder
    private let decoded: Frame

    /// `codec`: "aac" or "opus".
    public init(from source: TrackInfo, to codec: String = "aac") throws {
        decoder = try Decoder(codecName: source.codec, extradata: TrackExtradata.bytes(source))
        let channels = max(1, min(2, source.channels ?? 2))
        switch codec {
        case "aac":
            // AAC takes 48 kHz and below; Opus is always decoded at 48 kHz.
            let rate = min(48000, source.sampleRate ?? 48000)
            aac = try AACFrameEncoder(sampleRate: rate, channels: channels, bitRate: channels * 64000)
            track = TrackInfo(kind: .audio, codec: "aac", sampleRate: rate, channels: channels, bitRate: channels * 64000,
                              extradata: Data(aac.extradata).base64EncodedString())
        case "opus":
            aac = try AACFrameEncoder(sampleRate: 48000, channels: channels, bitRate: channels * 32000, codecName: "libopus")
            track = TrackInfo(kind: .audio, codec: "opus", sampleRate: 48000, channels: channels, bitRate: channels * 32000)
        default:
            throw FFmpegError(operation: "transcode", message: "no audio encoder for \(codec) (aac or opus)")
        }
        decoded = try Frame()
    }

    /// Decodes one frame (µs) and returns the encoded frames it completes, with their pts in µs.
    public func transcode(_ payload: [UInt8], pts: Int64) throws -> [(payload: [UInt8], pts: Int64)] {
        var out: [(payload: [UInt8], pts: Int64)] = []
        try transcode(payload, pts: pts) { packet, pts, _ in out.append((Array(packet.bytes), pts)) }
        return out
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
