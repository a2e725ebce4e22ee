import FFmpegKit
import Foundation
import NIOConcurrencyHelpers
import RoomClient
import RoomProtocol

/// What a mix makes and how.
public struct MixSettings: Sendable {
    public var width = 1280
    public var height = 720
    public var fps = 30
    /// A colour as ffmpeg's filters take it (black, navy, 0x336699).
    public var background = "black"
    public var layout: MixLayout = .grid
    /// `--streams`: only these, each in its own slot in this order.
    public var streams: [String]?
    /// Volume by stream id (1 = as it came); the others 1.
    public var volumes: [String: Double] = [:]
    /// How long a stalled or ended input's last picture stays before its region shows the background.
    public var holdSeconds = 2.0
    public var videoBitRate = 2_000_000
    public var gopSeconds = 2.0
    public var preset = "veryfast"
    public var tune: String? = "zerolatency"
    public var audioBitRate = 64_000
    public var sampleRate = 48_000
    public var channels = 2
    /// Stop after this much mixed media (seconds), or this many mixed video frames.
    public var duration: Double?
    public var frames: Int?
    /// Each change of an input (joined, mixing, stalled, left, and its region).
    public var onInputState: (@Sendable (MixInputReport) -> Void)?
    /// The ids of the inputs with a region or sound now, in slot order, whenever that changes.
    public var onInputsChanged: (@Sendable ([String]) -> Void)?

    public init() {}

    /// A gap in an input's media longer than this is a stall.
    static let stallMicros: Int64 = 1_000_000
    /// Sound is mixed once this much of it is queued (jitter), and a queue is cut back when it holds more
    /// than `soundMaxMicros` (latency).
    static let soundPrimeMicros: Int64 = 60_000
    static let soundMaxMicros: Int64 = 250_000
    /// Samples per mixing step: one AAC frame.
    static let soundChunk = 1024
}

public struct MixSummary: Sendable, Equatable {
    public var videoFrames = 0
    public var audioFrames = 0
    /// Output frames not made in time (the machine could not keep up).
    public var ticksMissed = 0
    public var mediaSeconds = 0.0
    /// Every input that was ever added.
    public var inputs: [String] = []
    public init() {}
}

/// `rtcbox mix`: several played streams composed into one picture and one sound, encoded once.
///
/// One thread does everything libav: it takes each input's player queue, decodes, and at every tick of
/// the output clock (the frame rate for video, 1024 samples for sound) pushes the newest picture of each
/// region (or the background) and a chunk of each input's sound through libavfilter (scale + overlay,
/// volume + amix), then encodes H.264 + AAC into the sink. An input that is late never holds the clock:
/// its last picture is shown again, its sound is silence.
public final class MixPipeline: Sendable {
    public let settings: MixSettings
    public let stop: StopSignal
    private let pending = NIOLockedValueBox<[(String, MediaQueue)]>([])

    public init(settings: MixSettings, stop: StopSignal = StopSignal()) {
        self.settings = settings
        self.stop = stop
    }

    /// Adds a played stream (from any thread); it takes a region when its video arrives.
    public func add(streamID: String, queue: MediaQueue) {
        pending.withLockedValue { $0.append((streamID, queue)) }
    }

    /// The mixed stream's tracks (what a room publish describes). Opens an AAC encoder for its configuration.
    public static func tracks(_ s: MixSettings) throws -> [TrackInfo] {
        let aac = try AACFrameEncoder(sampleRate: s.sampleRate, channels: s.channels, bitRate: s.audioBitRate)
        let video = TrackInfo(kind: .video, codec: "h264", width: s.width, height: s.height, frameRate: Double(s.fps), bitRate: s.videoBitRate)
        let audio = TrackInfo(kind: .audio, codec: "aac", sampleRate: s.sampleRate, channels: s.channels, bitRate: s.audioBitRate,
                              extradata: aac.extradata.isEmpty ? nil : Data(aac.extradata).base64EncodedString())
        return [video, audio]
    }

    /// Checks what can be checked before anything connects: the background colour, the regions.
    public static func validate(_ s: MixSettings) throws {
        if let problem = FilterColor.problem(with: s.background) { throw FFmpegError(operation: "--background", message: problem) }
        if case .custom(let regions) = s.layout {
            for r in regions {
                if let problem = r.rect.problem(inCanvas: s.width, s.height) {
                    throw FFmpegError(operation: "--region \(r.streamID)=\(r.rect)", message: problem)
                }
            }
        }
    }

    /// Mixes into `sink` (a room publish) until stopped or the duration or frame count is reached.
    public func run(sink: MediaSink) async throws -> MixSummary {
        let settings = self.settings, stop = self.stop, pending = self.pending
        return try await runOnThread(name: "rtcbox-mix") {
            try MixLoop(settings: settings, stop: stop, pending: pending, sink: sink).run()
        }
    }

    /// Mixes into a file, stdout or a URL as `play` writes them.
    public func run(output: PlaySettings) async throws -> (MixSummary, PlaySummary) {
        var play = output
        play.untilStreamEnds = true
        let queue = MediaQueue(capacity: 4096)
        let player = PlayPipeline(settings: play, stop: stop)
        try player.validate()
        let tracks = try Self.tracks(settings)
        queue.push(.started(StreamInfo(streamID: "mix", user: UserInfo(userID: "mix", userName: "mix"), tracks: tracks)))
        async let played = player.run(queue: queue)
        let mixed: MixSummary
        do {
            mixed = try await run(sink: QueueSink(queue: queue))
        } catch {
            queue.push(.closed(nil))
            stop.raise()
            _ = try? await played
            throw error
        }
        queue.push(.stopped(reason: "the mix ended"))
        return (mixed, try await played)
    }
}

/// The mixer thread's state: inputs, graphs, encoders, clock.
private final class MixLoop {
    let settings: MixSettings
    let stop: StopSignal
    let pending: NIOLockedValueBox<[(String, MediaQueue)]>
    let sink: MediaSink
    var inputs: [MixInput] = []
    var assignment: MixAssignment
    let background: Frame
    let composed: Frame
    let chunk: Frame
    let mixedSound: Frame
    let silence: AudioSampleQueue
    let video: VideoFrameEncoder
    let aac: AACFrameEncoder
    var videoGraph: FilterGraph?
    var videoGraphSources: [FilterGraph.Input] = []
    var audioGraph: FilterGraph?
    var audioGraphKey: [String] = []
    var summary = MixSummary()
    var announced: [String] = []
    let holdMicros: Int64

    init(settings: MixSettings, stop: StopSignal, pending: NIOLockedValueBox<[(String, MediaQueue)]>, sink: MediaSink) throws {
        self.settings = settings
        self.stop = stop
        self.pending = pending
        self.sink = sink
        assignment = MixAssignment(layout: settings.layout, width: settings.width, height: settings.height, fixed: settings.streams)
        background = try FilterGraph.single("color=c=\(settings.background):s=\(settings.width)x\(settings.height):r=\(settings.fps),format=yuv420p")
        composed = try Frame()
        chunk = try Frame()
        mixedSound = try Frame()
        silence = try AudioSampleQueue(sampleRate: settings.sampleRate, channels: settings.channels)
        video = try VideoFrameEncoder(settings: VideoFrameEncoder.settings(
            width: settings.width, height: settings.height, fps: settings.fps, bitRate: settings.videoBitRate,
            gopSeconds: settings.gopSeconds, preset: settings.preset, tune: settings.tune))
        aac = try AACFrameEncoder(sampleRate: settings.sampleRate, channels: settings.channels, bitRate: settings.audioBitRate)
        // The mix's own sound level, every 100 ms, as a publish measures what it captures.
        aac.levelMeter = SoundLevelMeter(windowSamples: settings.sampleRate / 10)
        aac.onSoundLevel = { [sink] in sink.noteSoundLevel($0) }
        holdMicros = Int64(settings.holdSeconds * 1_000_000)
    }

    func run() throws -> MixSummary {
        let start = FFmpegLibrary.monotonicMicros()
        let frameMicros = 1_000_000 / Double(settings.fps)
        let chunkMicros = Double(MixSettings.soundChunk) * 1_000_000 / Double(settings.sampleRate)
        var videoTick: Int64 = 0
        var soundTick: Int64 = 0
        let durationMicros = settings.duration.map { Int64($0 * 1_000_000) }
        while !stop.isRaised {
            let now = FFmpegLibrary.monotonicMicros()
            takePending()
            for input in inputs { input.drain(now: now) }
            updateInputs(now: now)
            let videoDue = start + Int64(Double(videoTick) * frameMicros)
            if now >= videoDue {
                // Far behind (the machine cannot keep up): skip to now rather than burst.
                let behind = Int64(Double(now - videoDue) / frameMicros)
                if behind > 3 {
                    summary.ticksMissed += Int(behind)
                    videoTick += behind
                }
                let micros = Int64(Double(videoTick) * frameMicros)
                try composeVideo(tick: videoTick, micros: micros, now: now)
                videoTick += 1
                summary.videoFrames = video.framesOut
                summary.mediaSeconds = Double(micros) / 1_000_000
                if let n = settings.frames, video.framesOut >= n { break }
                if let durationMicros, micros >= durationMicros { break }
            }
            let soundDue = start + Int64(Double(soundTick) * chunkMicros)
            if now >= soundDue {
                let behind = Int64(Double(now - soundDue) / chunkMicros)
                if behind > 5 { soundTick += behind }
                try mixSound(tick: soundTick, micros: Int64(Double(soundTick) * chunkMicros))
                soundTick += 1
            }
            let next = min(start + Int64(Double(videoTick) * frameMicros), start + Int64(Double(soundTick) * chunkMicros))
            let wait = next - FFmpegLibrary.monotonicMicros()
            if wait > 0 { usleep(UInt32(min(wait, 2_000))) }
        }
        try video.drain(sink: sink)
        summary.videoFrames = video.framesOut
        return summary
    }

    private func takePending() {
        let added = pending.withLockedValue { list -> [(String, MediaQueue)] in
            defer { list.removeAll() }
            return list
        }
        for (id, queue) in added where !inputs.contains(where: { $0.streamID == id }) {
            guard let input = try? MixInput(streamID: id, queue: queue, sampleRate: settings.sampleRate, channels: settings.channels) else { continue }
            inputs.append(input)
            summary.inputs.append(id)
            report(input, now: FFmpegLibrary.monotonicMicros())
        }
    }

    /// Slots for inputs whose video started, holds that ran out, events for what changed.
    private func updateInputs(now: Int64) {
        for input in inputs {
            if input.hasVideo { assignment.join(input.streamID) }
            let quiet = now - input.lastPictureAt
            if input.hasPicture && quiet > holdMicros {
                input.dropPicture()
                if !input.live { assignment.leave(input.streamID) }
            }
            if !input.live, let left = input.leftAt, now - left > holdMicros { assignment.leave(input.streamID) }
            report(input, now: now)
        }
        inputs.removeAll { $0.closed && assignment.slot(of: $0.streamID) == nil && !$0.hasPicture }
        let shown = assignment.slots.compactMap { $0 } + inputs.filter { $0.hasAudio && assignment.slot(of: $0.streamID) == nil }.map(\.streamID)
        if shown != announced {
            announced = shown
            settings.onInputsChanged?(shown)
        }
    }

    private func report(_ input: MixInput, now: Int64) {
        let r = MixInputReport(streamID: input.streamID, state: input.state(now: now, stallMicros: MixSettings.stallMicros),
                               region: assignment.rect(of: input.streamID))
        if r != input.reported {
            input.reported = r
            settings.onInputState?(r)
        }
    }

    /// One output picture: the background, and over it each region's newest picture.
    private func composeVideo(tick: Int64, micros: Int64, now: Int64) throws {
        var shown: [(MixInput, MixRect)] = []
        for (slot, id) in assignment.slots.enumerated() {
            guard let id, let input = inputs.first(where: { $0.streamID == id }), input.hasPicture else { continue }
            shown.append((input, assignment.rect(ofSlot: slot)))
        }
        let rate = (num: 1, den: settings.fps)
        var sources = [FilterGraph.Input(name: "bg", media: .video(width: settings.width, height: settings.height, pixelFormat: background.format), timeBase: rate)]
        for (i, (input, _)) in shown.enumerated() {
            sources.append(FilterGraph.Input(name: "v\(i)", media: .video(width: input.picture.width, height: input.picture.height,
                                                                           pixelFormat: input.picture.format), timeBase: rate))
        }
        let description = MixGraph.video(regions: shown.map(\.1))
        // A region that comes or goes, or an input whose picture changed size, makes a new graph (a few ms).
        if videoGraph?.description != description || sources != videoGraphSources {
            videoGraph = try FilterGraph(description: description, inputs: sources, outputs: [("out", true)])
            videoGraphSources = sources
        }
        guard let graph = videoGraph else { return }
        background.pts = tick
        try graph.push(background, into: 0)
        var capture: UInt64 = 0
        for (i, (input, _)) in shown.enumerated() {
            input.picture.pts = tick
            try graph.push(input.picture, into: i + 1)
            if now - input.lastPictureAt < 1_000_000 { capture = max(capture, input.pictureCapture) }
        }
        if capture == 0 { capture = UInt64(FFmpegLibrary.wallClockMicros()) }
        while try graph.pull(from: 0, into: composed) == .produced {
            try video.encode(composed, micros: micros, captureTime: capture, sink: sink)
        }
    }

    /// One chunk of sound: each input's next 1024 samples (silence where it has none), mixed.
    private func mixSound(tick: Int64, micros: Int64) throws {
        let n = MixSettings.soundChunk
        let pts = tick * Int64(n)
        let heard = inputs.filter(\.hasAudio)
        let emit: (Packet, Int64, Int64) throws -> Void = { [sink] packet, pts, dts in
            _ = sink.send(track: .audio, keyframe: true, pts: pts, dts: dts, captureTime: UInt64(FFmpegLibrary.wallClockMicros()),
                          payload: UnsafeRawBufferPointer(packet.bytes))
        }
        defer { summary.audioFrames += 1 }
        guard !heard.isEmpty else {
            audioGraph = nil
            audioGraphKey = []
            try silence.silence(n, into: mixedSound, pts: pts)
            try aac.add(mixedSound, startMicros: { micros }, emit: emit)
            return
        }
        let key = heard.map(\.streamID)
        if audioGraph == nil || key != audioGraphKey {
            let volumes = heard.map { settings.volumes[$0.streamID] ?? 1 }
            let rate = (num: 1, den: settings.sampleRate)
            audioGraph = try FilterGraph(description: MixGraph.audio(volumes: volumes, sampleRate: settings.sampleRate, channels: settings.channels),
                                         inputs: heard.indices.map { FilterGraph.Input(name: "a\($0)", media: .audio(sampleRate: settings.sampleRate, channels: settings.channels), timeBase: rate) },
                                         outputs: [("out", false)])
            audioGraphKey = key
        }
        guard let graph = audioGraph else { return }
        for (i, input) in heard.enumerated() {
            let q = input.sound
            if !input.soundPrimed && q.queuedMicros >= MixSettings.soundPrimeMicros { input.soundPrimed = true }
            if q.queuedMicros > MixSettings.soundMaxMicros {
                q.drop(q.count - Int(MixSettings.soundPrimeMicros * Int64(settings.sampleRate) / 1_000_000))
            }
            if input.soundPrimed {
                let real = try q.read(n, into: chunk, pts: pts)
                if real < n { input.soundPrimed = false }
            } else {
                try q.silence(n, into: chunk, pts: pts)
            }
            try graph.push(chunk, into: i)
        }
        while try graph.pull(from: 0, into: mixedSound) == .produced {
            try aac.add(mixedSound, startMicros: { micros }, emit: emit)
        }
    }
}
