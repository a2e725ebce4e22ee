import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// One opened input with the track encoders it feeds. Created, run and freed on one thread.
final class InputReader {
    let input: InputMedia
    let video: TrackSource?
    let audio: TrackSource?
    private let settings: PublishSettings
    private let stop: StopSignal
    private let realtime: Bool
    private var firstTimestamp: [Int: Int64] = [:]
    private var startMicros: Int64?
    private(set) var mediaMicros: Int64 = 0

    var tracks: [TrackInfo] { [video?.track, audio?.track].compactMap { $0 } }

    /// An input opened and its streams chosen, before any encoder exists (the settings may still change:
    /// a room's scenario is known only after the login).
    struct Opened: InputReaderLike {
        let input: InputMedia
        let videoIndex: Int?
        let audioIndex: Int?
        var claimsVideo: Bool { videoIndex != nil }
        var claimsAudio: Bool { audioIndex != nil }

        init(spec: InputSpec, wantVideo: Bool, wantAudio: Bool, stop: StopSignal) throws {
            input = try InputMedia(url: spec.url, format: spec.format, options: spec.options.sorted { $0.key < $1.key },
                                   interrupt: stop.makeInterruptFlag())
            videoIndex = wantVideo ? input.bestStream(AVMEDIA_TYPE_VIDEO) : nil
            audioIndex = wantAudio ? input.bestStream(AVMEDIA_TYPE_AUDIO) : nil
        }
    }

    init(_ opened: Opened, settings: PublishSettings, stop: StopSignal) throws {
        input = opened.input
        self.settings = settings
        self.stop = stop
        // Files and lavfi are read at their native rate; devices, stdin and network streams come at their own.
        realtime = settings.realtime ?? !(input.isLiveDevice || input.isStream)
        let input = self.input
        video = try opened.videoIndex.map { index -> TrackSource in
            settings.copy ? try TrackCopier(input: input, streamIndex: index, kind: .video)
                          : try VideoTrackEncoder(input: input, streamIndex: index, settings: settings)
        }
        audio = try opened.audioIndex.map { index -> TrackSource in
            settings.copy ? try TrackCopier(input: input, streamIndex: index, kind: .audio)
                          : try AudioTrackEncoder(input: input, streamIndex: index, settings: settings)
        }
        let start = input.context.pointee.start_time
        if start != cff_nopts_value() { startMicros = start }
    }

    var hasVideoStream: Bool { input.bestStream(AVMEDIA_TYPE_VIDEO) != nil }
    var hasAudioStream: Bool { input.bestStream(AVMEDIA_TYPE_AUDIO) != nil }

    /// Reads until the input ends, the duration is reached or a stop is asked; then drains the encoders.
    func run(sink: MediaSink, wallClockStart: Int64) throws {
        let packet = try Packet()
        let limit = settings.duration.map { Int64($0 * 1_000_000) }
        reading: while !stop.isRaised {
            let more: Bool
            do {
                more = try input.read(into: packet)
            } catch let e as FFmpegError where e.isExit {
                break reading
            }
            guard more else { break }
            let index = packet.streamIndex
            guard index == video?.streamIndex || index == audio?.streamIndex else { continue }
            let tb = input.timeBase(ofStream: index)
            let ts = packet.dts != cff_nopts_value() ? packet.dts : packet.pts
            if startMicros == nil, ts != cff_nopts_value() { startMicros = av_rescale_q(ts, tb, AVRational(num: 1, den: 1_000_000)) }
            let base = startMicros ?? 0
            let relative: (Int64) -> Int64 = { t in av_rescale_q(t, tb, AVRational(num: 1, den: 1_000_000)) - base }
            if ts != cff_nopts_value() {
                let micros = relative(ts)
                if let limit, micros >= limit { break reading }
                mediaMicros = max(mediaMicros, micros)
                if realtime {
                    let due = wallClockStart + micros
                    let now = FFmpegLibrary.monotonicMicros()
                    if due > now { stop.sleep(micros: due - now) }
                }
            }
            let capture = UInt64(FFmpegLibrary.wallClockMicros())
            if index == video?.streamIndex {
                try video?.process(packet, relative: relative, captureTime: capture, sink: sink)
            } else {
                try audio?.process(packet, relative: relative, captureTime: capture, sink: sink)
            }
        }
        let capture = UInt64(FFmpegLibrary.wallClockMicros())
        let base = startMicros ?? 0
        let flushRelative: (Int64) -> Int64 = { [input] t in
            av_rescale_q(t, input.timeBase(ofStream: 0), AVRational(num: 1, den: 1_000_000)) - base
        }
        try video?.process(nil, relative: flushRelative, captureTime: capture, sink: sink)
        try audio?.process(nil, relative: flushRelative, captureTime: capture, sink: sink)
    }
}
