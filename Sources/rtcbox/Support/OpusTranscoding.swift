import Media
import RoomProtocol
import RoomServer

/// The server's AAC → Opus for WebRTC players, made of Media's libavcodec transcoder (the server links no
/// codec itself).
struct MediaOpusTranscoding: AudioTranscoding {
    func opusTranscoder(for track: TrackInfo) throws -> any AudioFrameTranscoder {
        OpusFromAAC(try AudioTranscoder(from: track, to: "opus"))
    }
}

final class OpusFromAAC: AudioFrameTranscoder {
    private let transcoder: AudioTranscoder
    init(_ transcoder: AudioTranscoder) { self.transcoder = transcoder }

    func transcode(_ payload: [UInt8], pts: Int64) throws -> [(payload: [UInt8], pts: Int64)] {
        try transcoder.transcode(payload, pts: pts)
    }
}
