import Foundation
import RoomProtocol

/// The codec configuration a muxer or decoder needs for a track: the publisher's `extradata`, or for Opus without
/// one (browsers send none) an OpusHead built from the track's channel count.
enum TrackExtradata {
    static func bytes(_ track: TrackInfo) -> [UInt8] {
        if let e = track.extradata, let data = Data(base64Encoded: e), !data.isEmpty { return Array(data) }
        if track.codec == "opus" { return opusHead(channels: track.channels ?? 2, inputSampleRate: track.sampleRate ?? 48000) }
        return []
    }

    /// RFC 7845 §5.1 identification header, mapping family 0 (mono or stereo). Pre-skip 312 samples is libopus's
    /// encoder delay at 48 kHz, which browsers use.
    static func opusHead(channels: Int, inputSampleRate: Int, preSkip: UInt16 = 312) -> [UInt8] {
        var head = Array("OpusHead".utf8)
        head.append(1)
        head.append(UInt8(clamping: max(1, min(2, channels))))
        head += [UInt8(preSkip & 0xff), UInt8(preSkip >> 8)]
        let rate = UInt32(clamping: inputSampleRate)
        head += [UInt8(rate & 0xff), UInt8((rate >> 8) & 0xff), UInt8((rate >> 16) & 0xff), UInt8(rate >> 24)]
        head += [0, 0, 0]
        return head
    }
}
