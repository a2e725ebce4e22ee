import Foundation
import NIOCore
import RoomProtocol
import RTP

// The room protocol's frames and tracks in the RTP peer's terms, both ways: what the server's and the
// client's UDP media paths share (RTP knows no room protocol, RoomProtocol no RTP).

extension TrackKind {
    public var rtpKind: RTPMediaKind { self == .video ? .video : .audio }
    public init(_ kind: RTPMediaKind) { self = kind == .video ? .video : .audio }
}

extension TrackInfo {
    /// The RTP codec of this track; nil for a codec the UDP path does not carry.
    public var rtpCodec: RTPCodec? {
        switch codec.lowercased() {
        case "h264": return .h264
        case "opus": return .opus
        case "aac":
            let rate = sampleRate ?? 48_000
            let channels = channels ?? 2
            let config = extradata.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
                ?? AACPayload.audioSpecificConfig(sampleRate: rate, channels: channels) ?? []
            return .aac(clockRate: rate, channels: channels, audioSpecificConfig: config)
        default:
            return nil
        }
    }
}

extension TrackInfo {
    /// The room protocol's description of a track that arrives as this RTP codec (a browser's WHIP publish, a
    /// WHEP answer): no size or SPS/PPS for H.264 (players take them from the first keyframe), Opus as browsers
    /// send it, AAC with RFC 3640's AudioSpecificConfig.
    public init(_ codec: RTPCodec) {
        switch codec {
        case .h264:
            self.init(kind: .video, codec: "h264")
        case .opus:
            self.init(kind: .audio, codec: "opus", sampleRate: 48_000, channels: 2)
        case .aac(let rate, let channels, let config):
            self.init(kind: .audio, codec: "aac", sampleRate: rate, channels: channels,
                      extradata: config.isEmpty ? nil : Data(config).base64EncodedString())
        }
    }
}

extension RTPCodec {
    /// Whether a track of this room codec name ("h264", "aac", "opus") can go as this RTP codec.
    public func carries(_ codecName: String) -> Bool {
        switch self {
        case .h264: return codecName.lowercased() == "h264"
        case .opus: return codecName.lowercased() == "opus"
        case .aac: return codecName.lowercased() == "aac"
        }
    }
}

extension RTPFrame {
    /// A media frame's header and codec payload as an RTP frame (flags ride in frame-timing).
    public init(header: MediaFrameHeader, payload: ByteBuffer) {
        self.init(kind: header.track.rtpKind, isKeyframe: header.isKeyframe, pts: header.pts, dts: header.dts,
                  captureTime: Int64(clamping: header.captureTime), flags: header.flags.rawValue, payload: payload,
                  audioLevel: header.track == .audio ? header.soundLevel : nil)
    }

    /// The room protocol's media frame of stream `handle`. Video keyframes are the IDRs that came (whatever
    /// the flags said); audio frames are always keyframes.
    public func mediaFrame(handle: UInt32) -> MediaFrame {
        var flags = MediaFrameHeader.Flags(rawValue: self.flags)
        if isKeyframe { flags.insert(.keyframe) } else { flags.remove(.keyframe) }
        return MediaFrame(header: MediaFrameHeader(streamHandle: handle, track: TrackKind(kind), flags: flags, pts: pts, dts: dts,
                                                   captureTime: UInt64(clamping: max(0, captureTime)),
                                                   soundLevel: kind == .audio ? audioLevel : nil),
                          payload: payload)
    }
}
