import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// `--copy`: passes an input's H.264 or AAC packets through without decoding.
///
/// H.264 leaves as Annex-B with SPS/PPS in front of every keyframe (a join point for players): AVCC
/// input (MP4, Matroska, FLV) goes through libavcodec's h264_mp4toannexb, and a keyframe that gained
/// parameter sets this way is flagged so players writing AVCC can restore the source's exact bytes.
/// AAC leaves raw, its AudioSpecificConfig in the track (from the container, or built from an ADTS header).
final class TrackCopier {
    let streamIndex: Int
    let track: TrackInfo
    private let kind: TrackKind
    private let annexB: BitstreamFilter?
    /// Annex-B SPS/PPS from the container, put in front of keyframes that lack them (Annex-B inputs).
    private let parameterSets: [UInt8]?
    private var lastDts = Int64.min
    private(set) var framesOut = 0
    private(set) var framesDropped = 0
    /// Opus audio (from Matroska, WebM, Ogg, MPEG-TS): passed through as it is.
    private var isOpus = false

    init(input: InputMedia, streamIndex: Int, kind: TrackKind) throws {
        guard let stream = input.stream(streamIndex), let par = stream.pointee.codecpar else {
            throw FFmpegError(operation: "--copy", message: "stream \(streamIndex) of \"\(input.url)\" is missing")
        }
        self.streamIndex = streamIndex
        self.kind = kind
        let codec = par.pointee.codec_id
        let extradata = par.pointee.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(par.pointee.extradata_size))) } ?? []
        switch kind {
        case .video:
            guard codec == AV_CODEC_ID_H264 else {
                throw FFmpegError(operation: "--copy", message: "the video of \"\(input.url)\" is \(Self.codecName(codec)), not H.264; drop --copy to re-encode it",
                                  code: FFmpegError.invalidDataCode)
            }
            let isAVCC = H264AVCC.isAVCC(extradata: extradata)
            annexB = isAVCC ? try BitstreamFilter(name: "h264_mp4toannexb", parameters: par, timeBase: stream.pointee.time_base) : nil
            parameterSets = isAVCC ? nil : H264AnnexB.parameterSets(in: extradata)
            let rate = av_guess_frame_rate(input.context, stream, nil)
            track = TrackInfo(kind: .video, codec: "h264", width: Int(par.pointee.width), height: Int(par.pointee.height),
                              frameRate: rate.num > 0 && rate.den > 0 ? av_q2d(rate) : nil,
                              bitRate: par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate) : nil)
        case .audio where codec == AV_CODEC_ID_OPUS:
            // Raw Opus packets; the OpusHead (pre-skip, channels) travels as the track's extradata.
            annexB = nil
            parameterSets = nil
            isOpus = true
            track = TrackInfo(kind: .audio, codec: "opus", sampleRate: 48000, channels: Int(par.pointee.ch_layout.nb_channels),
                              bitRate: par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate) : nil,
                              extradata: extradata.isEmpty ? nil : Data(extradata).base64EncodedString())
        case .audio:
            guard codec == AV_CODEC_ID_AAC else {
                throw FFmpegError(operation: "--copy", message: "the audio of \"\(input.url)\" is \(Self.codecName(codec)), not AAC or Opus; drop --copy to re-encode it",
                                  code: FFmpegError.invalidDataCode)
            }
            annexB = nil
            parameterSets = nil
            let config = extradata.isEmpty
                ? AACConfig.audioSpecificConfig(profile: Int(par.pointee.profile), sampleRate: Int(par.pointee.sample_rate),
                                                channels: Int(par.pointee.ch_layout.nb_channels))
                : extradata
            guard let config else {
                throw FFmpegError(operation: "--copy", message: "the AAC audio of \"\(input.url)\" has no usable configuration",
                                  code: FFmpegError.invalidDataCode)
            }
            track = TrackInfo(kind: .audio, codec: "aac", sampleRate: Int(par.pointee.sample_rate),
                              channels: Int(par.pointee.ch_layout.nb_channels),
                              bitRate: par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate) : nil,
                              extradata: Data(config).base64EncodedString())
        }
    }

    static func codecName(_ id: AVCodecID) -> String {
        avcodec_get_name(id).map { String(cString: $0) } ?? "an unknown codec"
    }

    func process(_ input: Packet?, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) throws {
        if let annexB {
            // h264_mp4toannexb puts the stream's SPS/PPS right before the IDR slice of a keyframe that lacks them.
            // Only keyframes can gain parameter sets: other packets are not parsed.
            let before = input.map { $0.isKeyframe ? Self.parameterSetCount(H264AVCC.nalUnits(Array($0.bytes)) ?? []) : 0 } ?? 0
            try annexB.filter(input) { out in
                let bytes = Array(out.bytes)
                let added = out.isKeyframe && Self.parameterSetCount(H264AnnexB.nalUnits(bytes)) > before
                send(out, bytes: bytes, added: added, relative: relative, captureTime: captureTime, sink: sink)
            }
            if input == nil { flushUndated(before: nil, sink: sink) }
            return
        }
        guard let input else {
            flushUndated(before: nil, sink: sink)
            return
        }
        var bytes = Array(input.bytes)
        var added = false
        if kind == .video, input.isKeyframe, let sets = parameterSets, Self.parameterSetCount(H264AnnexB.nalUnits(bytes)) == 0,
           let at = H264AnnexB.startCodeOffset(ofFirst: H264AnnexB.idr, in: bytes) {
            // The same place h264_mp4toannexb uses: right before the IDR slice.
            bytes.insert(contentsOf: sets, at: at)
            added = true
        } else if kind == .audio, !isOpus, let header = AACConfig.adtsHeaderLength(bytes) {
            bytes.removeFirst(min(header, bytes.count))
        }
        send(input, bytes: bytes, added: added, relative: relative, captureTime: captureTime, sink: sink)
    }

    private func send(_ packet: Packet, bytes: [UInt8], added: Bool, relative: (Int64) -> Int64, captureTime: UInt64, sink: MediaSink) {
        let hasDts = packet.dts != cff_nopts_value()
        let rawDts = hasDts ? packet.dts : packet.pts
        guard rawDts != cff_nopts_value(), !bytes.isEmpty else {
            framesDropped += 1
            return
        }
        let pts = relative(packet.pts != cff_nopts_value() ? packet.pts : rawDts)
        var flags: MediaFrameHeader.Flags = packet.isKeyframe ? .keyframe : []
        if added { flags.insert(.parameterSetsAdded) }
        // Matroska leaves the dts of the first packets of a stream with B-frames unset, and their pts run ahead of
        // decode order (I 7, P 107, then B 40 with dts 7): they wait for the first packet that has a dts and are
        // dated just before it.
        if kind == .video && !hasDts && lastDts == .min && undated.count < 32 {
            undated.append(Undated(bytes: bytes, pts: pts, flags: flags, captureTime: captureTime))
            return
        }
        var dts = relative(rawDts)
        flushUndated(before: hasDts ? dts : nil, sink: sink)
        if !hasDts, lastDts != .min { dts = min(dts, lastDts + 1) }
        emit(bytes, pts: pts, dts: dts, flags: flags, captureTime: captureTime, sink: sink)
    }

    private struct Undated {
        var bytes: [UInt8]
        var pts: Int64
        var flags: MediaFrameHeader.Flags
        var captureTime: UInt64
    }

    /// Packets without a dts, held until one has a dts (see send).
    private var undated: [Undated] = []

    /// Sends the held packets, 1 µs apart before `known`, or (at the end, or with no dts in sight) by their pts.
    private func flushUndated(before known: Int64?, sink: MediaSink) {
        let n = undated.count
        for (i, u) in undated.enumerated() {
            let dts = known.map { $0 - Int64(n - i) } ?? (lastDts == .min ? u.pts : min(u.pts, lastDts + 1))
            emit(u.bytes, pts: u.pts, dts: dts, flags: u.flags, captureTime: u.captureTime, sink: sink)
        }
        undated.removeAll()
    }

    private func emit(_ bytes: [UInt8], pts: Int64, dts: Int64, flags: MediaFrameHeader.Flags, captureTime: UInt64, sink: MediaSink) {
        guard dts > lastDts else {
            framesDropped += 1  // a demuxer repeating or going back in time: never sent non-monotonic
            return
        }
        lastDts = dts
        let sent = bytes.withUnsafeBytes { sink.send(track: kind, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: $0) }
        if sent { framesOut += 1 } else { framesDropped += 1 }
    }

    static func parameterSetCount(_ units: [ArraySlice<UInt8>]) -> Int {
        units.filter { H264AnnexB.nalType($0) == H264AnnexB.sps || H264AnnexB.nalType($0) == H264AnnexB.pps }.count
    }
}

/// AAC configuration: AudioSpecificConfig from stream parameters, ADTS headers.
enum AACConfig {
    static let sampleRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

    /// A 2-byte AudioSpecificConfig; `profile` is libavcodec's (FF_PROFILE_AAC_LOW = 1 → object type 2).
    static func audioSpecificConfig(profile: Int, sampleRate: Int, channels: Int) -> [UInt8]? {
        guard let index = sampleRates.firstIndex(of: sampleRate), (1...7).contains(channels) else { return nil }
        let objectType = profile >= 0 ? profile + 1 : 2
        let bits = UInt16(objectType & 0x1f) << 11 | UInt16(index) << 7 | UInt16(channels) << 3
        return [UInt8(bits >> 8), UInt8(bits & 0xff)]
    }

    /// The length of an ADTS header at the start of `bytes` (7, or 9 with CRC), or nil.
    static func adtsHeaderLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 7, bytes[0] == 0xFF, bytes[1] & 0xF6 == 0xF0 else { return nil }
        return bytes[1] & 0x01 == 1 ? 7 : 9
    }
}
