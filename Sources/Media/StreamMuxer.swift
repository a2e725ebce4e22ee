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
    private let url: String
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
    /// "aac": audio in another codec is transcoded to AAC; nil keeps each codec where the container allows it.
    private let audioCodec: String?
    /// Re-encodes the audio track (set when the stream's audio cannot be kept, recreated at each restart).
    private var transcoder: AudioTranscoder?
    private var transcodeSource: TrackInfo?
    private var lastTranscodedDts: Int64 = .min
    /// Told once, in one line, when the audio is transcoded.
    private let onNote: (String) -> Void

    init(output url: String, format: String?, kinds: Set<TrackKind> = [.video, .audio], options: [(String, String)] = [],
         audioCodec: String? = nil, ioTimeoutMicros: Int64 = 0, onNote: @escaping (String) -> Void = { _ in }) throws {
        muxerName = try OutputFormat.muxerName(format: format, output: url)
        self.url = url
        extraOptions = options
        self.audioCodec = audioCodec
        self.onNote = onNote
        writesAVCC = OutputFormat.carriesAVCC(muxerName)
        self.kinds = kinds
        output = try OutputMedia(url: url, format: muxerName, flushEachPacket: true)
        output.ioTimeoutMicros = ioTimeoutMicros
    }

    /// A (re)started stream: the next written frame must be a join point.
    func streamStarted(_ info: StreamInfo) {
        if !opened { tracks = info.tracks.filter { kinds.contains($0.kind) } }
        offset = nil
        // A restarted stream's audio starts a new timeline: the next frame anchors a fresh transcoder.
        if let source = transcodeSource, transcoder != nil { transcoder = try? AudioTranscoder(from: source) }
    }

    var hasVideo: Bool { tracks.contains { $0.kind == .video } }

    /// Whether the header went out (the first join point came and the output opened).
    var isOpen: Bool { opened }

    /// Writes one frame (or drops it while waiting for a join point). Returns true when written.
    @discardableResult
    func write(_ frame: MediaFrame) throws -> Bool {
        let h = frame.header
        guard tracks.contains(where: { $0.kind == h.track }) else { return false }
        // Timestamps beyond ±2^50 µs (35 years) are garbage or hostile: dropped, never computed with.
        guard (-Self.timestampLimit...Self.timestampLimit).contains(h.dts), (-Self.timestampLimit...Self.timestampLimit).contains(h.pts) else {
            framesDropped += 1
            return false
        }
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
        if h.track == .audio, let transcoder {
            try transcoder.transcode(payload, pts: pts) { packet, pts, dts in try writeTranscoded(packet, pts: pts, dts: dts, index: index) }
            return true
        }
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

    private func writeTranscoded(_ packet: Packet, pts: Int64, dts: Int64, index: Int) throws {
        // After a restart the fresh encoder may start a little before what the old one wrote: dropped, not reordered.
        // The encoder's priming packet sits before 0, which FLV refuses after a video packet at 0: dropped too.
        guard dts > lastTranscodedDts, dts >= 0 else { return }
        lastTranscodedDts = dts
        packet.pts = pts
        packet.dts = dts
        packet.isKeyframe = true
        let size = packet.bytes.count
        try output.write(packet, stream: index, timeBase: AVRational(num: 1, den: 1_000_000))
        bytesWritten += size
        audioFramesWritten += 1
    }

    static let timestampLimit: Int64 = 1 << 50

    /// Whether this container keeps an audio codec as it is.
    static func carries(audio codec: String, muxer: String) -> Bool {
        codec != "opus" || ["matroska", "nut", "mp4", "mpegts"].contains(muxer)
    }

    private func open(firstKeyframe: [UInt8]?) throws {
        if let i = tracks.firstIndex(where: { $0.kind == .audio && $0.codec != "aac" }) {
            let source = tracks[i]
            let forced = audioCodec == "aac"
            if forced || !Self.carries(audio: source.codec, muxer: muxerName) {
                let t = try AudioTranscoder(from: source)
                transcoder = t
                transcodeSource = source
                tracks[i] = t.track
                onNote("\(source.codec) audio is transcoded to AAC " + (forced ? "(--audio-codec aac)" : "(\(muxerName) cannot carry \(source.codec))"))
            }
        }
        for t in tracks.sorted(by: { $0.kind.rawValue < $1.kind.rawValue }) {
            var p = OutputStreamParameters(kind: t.kind == .video ? .video : .audio, codecName: t.codec)
            p.width = t.width ?? 0
            p.height = t.height ?? 0
            // A track that does not say its size (a browser's WHIP publish): its first keyframe's SPS does.
            if t.kind == .video, p.width <= 0 || p.height <= 0, let key = firstKeyframe, let size = H264AnnexB.frameSize(of: key) {
                (p.width, p.height) = (size.width, size.height)
            }
            if let fr = t.frameRate, fr > 0 { p.frameRate = av_d2q(fr, 1000) }
            p.sampleRate = t.sampleRate ?? 0
            p.channels = t.channels ?? 0
            p.bitRate = t.bitRate ?? 0
            let extradata = TrackExtradata.bytes(t)
            if !extradata.isEmpty {
                p.extradata = extradata
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
        try output.start(options: OutputFormat.muxerOptions(muxerName, output: url) + extraOptions)
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
        if let transcoder, opened, let index = streamIndex[.audio] {
            try transcoder.finish { packet, pts, dts in try writeTranscoded(packet, pts: pts, dts: dts, index: index) }
        }
        try output.finish()
    }
}
