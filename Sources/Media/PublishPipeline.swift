import FFmpegKit
import Foundation
import RoomProtocol

/// Capture → decode → encode → sink, one thread per input.
///
/// Each input thread opens its input (libav objects never leave that thread) and waits; once every input is
/// open, `prepare` may change the settings (e.g. to a room's scenario after the login: a bad input fails before
/// any login); then each thread opens its encoders and reports its track descriptions; once every input is
/// ready, `makeSink` (e.g. a room publish) gets all the tracks, and the threads start sending to its sink.
public final class PublishPipeline: Sendable {
    public let settings: PublishSettings
    public let stop: StopSignal

    public init(settings: PublishSettings, stop: StopSignal = StopSignal()) {
        self.settings = settings
        self.stop = stop
    }

    public func run(prepare: @escaping @Sendable (PublishSettings) async throws -> PublishSettings = { $0 },
                    makeSink: @escaping @Sendable ([TrackInfo]) async throws -> MediaSink) async throws -> PublishSummary {
        guard !settings.inputs.isEmpty else {
            throw FFmpegError(operation: "publish", message: "no input given (use -i)")
        }
        let gate = StartGate(parties: settings.inputs.count)
        let settings = self.settings
        let stop = self.stop
        // Video comes from the first input that has it, audio from the first input that has it.
        let results = try await withThrowingTaskGroup(of: (Int, PublishSummary).self) { group in
            for (i, spec) in settings.inputs.enumerated() {
                group.addTask {
                    let summary = try await runOnThread(name: "rtcbox-input-\(i)") {
                        try Self.runInput(index: i, spec: spec, useVideo: settings.useVideo, useAudio: settings.useAudio,
                                          gate: gate, stop: stop)
                    }
                    return (i, summary)
                }
            }
            group.addTask {
                do {
                    try await runOnThread(name: "rtcbox-gate") { try gate.waitUntilOpened() }
                    gate.prepared(try await prepare(settings))
                    let tracks = try await runOnThread(name: "rtcbox-gate") { try gate.waitForTracks() }
                    gate.open(with: try await makeSink(tracks))
                } catch {
                    gate.abort(error)
                    throw error
                }
                return (-1, PublishSummary())
            }
            var all: [PublishSummary] = []
            do {
                for try await (i, s) in group where i >= 0 { all.append(s) }
            } catch {
                gate.abort(error)
                stop.raise()
                throw error
            }
            return all
        }
        var total = PublishSummary()
        for r in results {
            total.videoFrames += r.videoFrames
            total.audioFrames += r.audioFrames
            total.framesDropped += r.framesDropped
            total.mediaSeconds = max(total.mediaSeconds, r.mediaSeconds)
        }
        return total
    }

    private static func runInput(index: Int, spec: InputSpec, useVideo: Bool, useAudio: Bool, gate: StartGate,
                                 stop: StopSignal) throws -> PublishSummary {
        let reader: InputReader
        do {
            // An input takes video if no earlier input offers video (same for audio); decided in order.
            let opened = try gate.claim(index: index) { wantVideo, wantAudio in
                try InputReader.Opened(spec: spec, wantVideo: wantVideo && useVideo, wantAudio: wantAudio && useAudio, stop: stop)
            }
            reader = try InputReader(opened, settings: try gate.waitForSettings(), stop: stop)
        } catch {
            gate.abort(error)
            throw error
        }
        guard let (sink, start) = try gate.arrive(index: index, tracks: reader.tracks) else { return PublishSummary() }
        if !reader.tracks.isEmpty { try reader.run(sink: sink, wallClockStart: start) }
        var s = PublishSummary()
        s.videoFrames = reader.video?.framesOut ?? 0
        s.audioFrames = reader.audio?.framesOut ?? 0
        s.framesDropped = (reader.video?.framesDropped ?? 0) + (reader.audio?.framesDropped ?? 0)
        s.mediaSeconds = Double(reader.mediaMicros) / 1_000_000
        return s
    }
}

/// Where input threads meet: they open in order (so "first input with video" is well defined), report
/// tracks, and wait until the sink exists or the start is aborted.
final class StartGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var nextToOpen = 0
    private var videoTaken = false
    private var audioTaken = false
    private var tracks: [Int: [TrackInfo]] = [:]
    private var sink: MediaSink?
    private var settings: PublishSettings?
    private var startMicros: Int64 = 0
    private var failure: Error?

    init(parties: Int) { self.parties = parties }

    func claim<R: InputReaderLike>(index: Int, open: (Bool, Bool) throws -> R) throws -> R {
        condition.lock()
        while nextToOpen != index && failure == nil { condition.wait() }
        if let failure { condition.unlock(); throw failure }
        let wantVideo = !videoTaken, wantAudio = !audioTaken
        condition.unlock()
        let reader: R
        do {
            reader = try open(wantVideo, wantAudio)
        } catch {
            abort(error)
            throw error
        }
        condition.lock()
        if reader.claimsVideo { videoTaken = true }
        if reader.claimsAudio { audioTaken = true }
        nextToOpen += 1
        condition.broadcast()
        condition.unlock()
        return reader
    }

    /// Until every input is open (or one failed).
    func waitUntilOpened() throws {
        condition.lock()
        defer { condition.unlock() }
        while nextToOpen < parties && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// The settings the encoders open with, once `prepare` has given them.
    func prepared(_ s: PublishSettings) {
        condition.lock()
        settings = s
        condition.broadcast()
        condition.unlock()
    }

    func waitForSettings() throws -> PublishSettings {
        condition.lock()
        defer { condition.unlock() }
        while settings == nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        guard let settings else { throw FFmpegError(operation: "publish", message: "no settings") }
        return settings
    }

    func arrive(index: Int, tracks t: [TrackInfo]) throws -> (MediaSink, Int64)? {
        condition.lock()
        defer { condition.unlock() }
        tracks[index] = t
        condition.broadcast()
        while sink == nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        return sink.map { ($0, startMicros) }
    }

    func waitForTracks() throws -> [TrackInfo] {
        condition.lock()
        defer { condition.unlock() }
        while tracks.count < parties && failure == nil { condition.wait() }
        if let failure { throw failure }
        let all = tracks.keys.sorted().flatMap { tracks[$0] ?? [] }
        guard !all.isEmpty else {
            throw FFmpegError(operation: "publish", message: "the inputs have no video or audio stream to publish")
        }
        return all.sorted { $0.kind.rawValue < $1.kind.rawValue }
    }

    func open(with sink: MediaSink) {
        condition.lock()
        self.sink = sink
        startMicros = FFmpegLibrary.monotonicMicros()
        condition.broadcast()
        condition.unlock()
    }

    func abort(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}

protocol InputReaderLike {
    var claimsVideo: Bool { get }
    var claimsAudio: Bool { get }
}


