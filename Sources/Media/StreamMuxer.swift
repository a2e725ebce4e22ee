import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// Writes the frames of one played stream into a muxer without re-encoding.
///
/// The output starts at a video keyframe (audio before it is dropped) with timestamps rebased to 0;
/// dts never goes backwards (such packets are dropped and counted); when the stream restarts, its new
/// timestamps continue after the last written ones. Containers that carry H.264 length-prefixed (MP4,
/// Matroska, NUT, FLV) get AVCC packets and an avcC record, as `ffmpeg -c copy` from an MP4 would write
/// them; MPEG-TS gets the Annex-B frames as they came.
final class StreamMuxer {
    private let output: OutputMedia
    private let muxerName: String
    private let writesAVCC: Bool
    /// The kinds of track written (--video-only / --audio-only leave one out).
    private let kinds: Set<TrackKind>
    private var opened = false
    private var tracks: [TrackInfo] = []
    private var streamIndex: [TrackKind: Int] = [:]
    /// Added to incoming µs timestamps to get output µs timestamps (set at each (re)start).
    private var offset: Int64?
    private var lastDts: [TrackKind: Int64] = [:]
    private var lastWritten: Int64 = 0
    private(set) var videoFramesWritten = 0
    private(set) var audioFramesWritten = 0
    private(set) var framesDropped = 0
    private(set) var bytesWritten = 0
    /// The output media time in µs (last written dts).
    var mediaMicros: Int64 { lastWritten }

    private let extraOptions: [(String, String)]

    init(output url: String, format: String?, kinds: Set<TrackKind> = [.video, .audio], options: [(String, String)] = []) throws {
        muxerName = try OutputFormat.muxerName(format: format, output: url)
        extraOptions = options
        writesAVCC = OutputFormat.carriesAVCC(muxerName)
        self.kinds = kinds
        output = try OutputMedia(url: url, format: muxerName, flushEachPacket: true)
    }

    /// A (re)started stream: the next written frame must be a join point.
    func streamStarted(_ info: StreamInfo) {
        if !opened { tracks = info.tracks.filter { kinds.contains($0.kind) } }
        offset = nil
    }

    var hasVideo: Bool { tracks.contains { $0.kind == .video } }

    /// Writes one frame (or drops it while waiting for a join point). Returns true when written.
    @discardableResult
    func write(_ frame: MediaFrame) throws -> Bool {
        let h = frame.header
        guard tracks.contains(where: { $0.kind == h.track }) else { return false }
        var payload = Array(frame.payload.readableBytesView)
        if offset == nil {
            let joinPoint = hasVideo ? (h.track == .video && h.isKeyframe) : true
            guard joinPoint else {
                framesDropped += 1
                return false
            }
            if !opened { try open(firstKeyframe: h.track == .video ? payload : nil) }
            // After a gap (publisher restart, reconnect) the stream goes on one video frame after the last
            // written packet: a clean discontinuity that no player or re-muxer sees as going backwards.
            let frameMicros = Int64(1_000_000 / max(1, tracks.first { $0.kind == .video }?.frameRate ?? 30))
            let step: Int64 = videoFramesWritten + audioFramesWritten > 0 ? max(frameMicros, 25_000) : 0
            offset = lastWritten + step - h.dts
        }
        guard let offset, let index = streamIndex[h.track] else { return false }
        let dts = h.dts + offset
        let pts = max(h.pts + offset, dts)
        if dts < 0 || (lastDts[h.track].map { dts <= $0 } ?? false) {
            framesDropped += 1
            return false
        }
        lastDts[h.track] = dts
        lastWritten = max(lastWritten, dts)
        if h.track == .video && writesAVCC {
            payload = Self.avcc(payload, dropAddedParameterSets: h.flags.contains(.parameterSetsAdded))
        }
        let p = try Packet(copying: payload)
        p.pts = pts
        p.dts = dts
        p.isKeyframe = h.isKeyframe
        try output.write(p, stream: index, timeBase: AVRational(num: 1, den: 1_000_000))
        bytesWritten += payload.count
        if h.track == .video { videoFramesWritten += 1 } else { audioFramesWritten += 1 }
        return true
    }

    private func open(firstKeyframe: [UInt8]?) throws {
        for t in tracks.sorted(by: { $0.kind.rawValue < $1.kind.rawValue }) {
            var p = OutputStreamParameters(kind: t.kind == .video ? .video : .audio, codecName: t.codec)
            p.width = t.width ?? 0
            p.height = t.height ?? 0
            if let fr = t.frameRate, fr > 0 { p.frameRate = av_d2q(fr, 1000) }
            p.sampleRate = t.sampleRate ?? 0
            p.channels = t.channels ?? 0
            p.bitRate = t.bitRate ?? 0
            if let e = t.extradata, let data = Data(base64Encoded: e) {
                p.extradata = Array(data)
            } else if t.kind == .video, let key = firstKeyframe, let sets = H264AnnexB.parameterSets(in: key) {
                p.extradata = sets
            }
            if t.kind == .video && writesAVCC, !H264AVCC.isAVCC(extradata: p.extradata) {
                let units = H264AnnexB.nalUnits(p.extradata)
                let record = H264AVCC.record(sps: units.filter { H264AnnexB.nalType($0) == H264AnnexB.sps },
                                             pps: units.filter { H264AnnexB.nalType($0) == H264AnnexB.pps })
                p.extradata = record ?? []
            }
            streamIndex[t.kind] = try output.addStream(p)
        }
        try output.start(options: OutputFormat.muxerOptions(muxerName) + extraOptions)
        opened = true
    }

    /// Annex-B → 4-byte length-prefixed NAL units; SPS/PPS the publisher added in copy mode are dropped, which
    /// gives back the source container's packet.
    static func avcc(_ annexB: [UInt8], dropAddedParameterSets: Bool) -> [UInt8] {
        var units = H264AnnexB.nalUnits(annexB)
        if dropAddedParameterSets { units = H264AnnexB.removingParameterSetsBeforeIDR(units) }
        return H264AVCC.fromUnits(units)
    }

    /// The tracks as written (after the first join point), for a recording's sidecar.
    var writtenTracks: [TrackInfo] { opened ? tracks : [] }

    /// Writes the trailer (the file is complete and playable afterwards).
    func finish() throws {
        try output.finish()
    }
}
