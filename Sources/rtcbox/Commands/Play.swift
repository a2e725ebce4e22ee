import ArgumentParser
import Foundation
import Media
import NIOPosix
import RoomClient
import RoomProtocol

struct Play: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a stream of a room into a file or stdout, without re-encoding.",
        discussion: """
        Writes H.264 + AAC as received into -o PATH or stdout (-o -, MPEG-TS unless --format says \
        otherwise), flushing every packet so `rtcbox play r1 cam | ffplay -` shows live video. -o \
        rtmp://HOST/APP/KEY pushes it to an RTMP server (FLV; Opus becomes AAC), srt://, rist:// or udp:// \
        as MPEG-TS: a CDN relay that reconnects with backoff when the far end drops (relay_state events); \
        with --keep-waiting it also follows publisher restarts. If the stream is not live yet it waits for it. Exits 0 after --duration or --frames, or when the publisher stops. \
        With --whep URL it plays from any WHEP server over WebRTC instead of from a room: no ROOM or STREAM then.
        """)

    @Argument(help: "The room id (not with --whep).")
    var room: String?

    @Argument(help: "The stream id (not with --whep).")
    var stream: String?

    @Option(name: .long, help: ArgumentHelp("Play from this WHEP endpoint over WebRTC, not from a room; DELETE on its session at the end.", valueName: "url"))
    var whep: String?

    @Option(name: .long, help: ArgumentHelp("Authorization: Bearer TOKEN for --whep (env RTCBOX_BEARER).", valueName: "token"))
    var bearer: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM certificates to trust for an https --whep server besides the system's: a self-signed server's own certificate, or a private CA's.", valueName: "file"))
    var caFile: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Output file, - for stdout, or a server to push to: rtmp://HOST/APP/KEY (FLV), srt://, rist://, udp:// (MPEG-TS); a push reconnects with backoff when the far end drops.", valueName: "path|-|url"))
    var output = "-"

    @Option(name: .long, help: ArgumentHelp("Container: mpegts, nut, matroska, flv or mp4 (fragmented); with --decode yuv4mpegpipe, or s16le, f32le, wav. Default: from the file name; mpegts on stdout.", valueName: "format"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this much media (e.g. 10, 10s, 1m).", valueName: "duration"))
    var duration: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Stop after this many video frames.", valueName: "n"))
    var frames: Int?

    @Flag(name: .long, help: "Keep playing when the publisher stops, and resume when it comes back.")
    var keepWaiting = false

    @Flag(name: .long, help: "Decode and write raw media: yuv4mpegpipe video, or with --audio-only s16le, f32le or wav PCM (--format).")
    var decode = false

    @Flag(name: .long, help: "Show the video in a window (libavdevice sdl2, or --window-device xv) instead of writing it.")
    var window = false

    @Option(name: .long, help: ArgumentHelp("The window's libavdevice output device: sdl2 or xv.", valueName: "device"))
    var windowDevice = "sdl2"

    @Option(name: .long, help: ArgumentHelp("copy keeps the stream's audio codec where the container allows it (Opus in mpegts, nut, matroska, mp4); aac transcodes Opus to AAC (always done for flv).", valueName: "copy|aac"))
    var audioCodec = "copy"

    @Flag(name: .long, help: "Write no media: print the side info (SEI) of each video frame to stdout as player_recv_sei JSON lines.")
    var seiOnly = false

    @Flag(name: .long, help: "Write the video track only.")
    var videoOnly = false

    @Flag(name: .long, help: "Write the audio track only.")
    var audioOnly = false

    @Option(name: .long, help: ArgumentHelp("Of a stream published in two layers: big (the default), small, or auto (the downlink picks: small while it backs up, big again when it stays calm; switches at keyframes, the output goes on).", valueName: "big|small|auto"))
    var layer: PlayLayerValue?

    @OptionGroup var push: PushOptions

    @OptionGroup var client: ClientOptions
    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if let whep {
            if let problem = WHIPSignaling.check(whep) { throw ValidationError("--whep: \(problem)") }
            if room != nil || stream != nil { throw ValidationError("--whep plays its URL, not a ROOM and STREAM: give one or the other") }
            if keepWaiting { throw ValidationError("--keep-waiting needs a room: it does not go with --whep") }
            if layer != nil { throw ValidationError("--layer needs a room: a WHEP session carries one video layer") }
        } else {
            guard let room, let stream else { throw ValidationError("give a ROOM and a STREAM (or --whep URL)") }
            if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
            if let problem = Identifier.problem(with: stream, kind: .stream) { throw ValidationError(problem) }
            if bearer != nil { throw ValidationError("--bearer goes with --whep; a room login takes --token") }
            if caFile != nil { throw ValidationError("--ca-file goes with --whep (an https server's certificate)") }
        }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        if videoOnly && audioOnly { throw ValidationError("--video-only and --audio-only leave nothing to play") }
        guard ["copy", "aac"].contains(audioCodec) else { throw ValidationError("--audio-codec must be copy or aac, not \"\(audioCodec)\"") }
        if NetworkOutput.scheme(of: output) != nil {
            if decode { throw ValidationError("--decode writes raw media; a push to \(NetworkOutput.redacted(output)) carries the stream as it is") }
            if window { throw ValidationError("--window shows the stream; it does not go with a push to a server (-o URL)") }
        }
        if seiOnly {
            if output != "-" || decode || window { throw ValidationError("--sei-only prints side info to stdout and writes no media (no -o, --decode or --window)") }
            if outputOptions.events == "-" { throw ValidationError("--sei-only prints to stdout; send --events to a file") }
            return
        }
        if output == "-" && outputOptions.events == "-" && !window {
            throw ValidationError("--events - and -o - would both write to stdout; send events to a file")
        }
        if output == "-" && isatty(STDOUT_FILENO) == 1 && !window {
            throw ValidationError("refusing to write media to a terminal: use -o FILE or a pipe (| ffplay -)")
        }
        do { try pipeline(StopSignal()).validate() } catch { throw ValidationError("\(error)") }
    }

    func pipeline(_ stop: StopSignal, writer: EventWriter? = nil) -> PlayPipeline {
        var s = PlaySettings(output: output, format: format)
        s.duration = duration?.seconds
        s.frames = frames
        s.untilStreamEnds = !keepWaiting
        if videoOnly { s.kinds = [.video] }
        if audioOnly { s.kinds = [.audio] }
        s.decode = decode
        s.audioCodec = audioCodec == "aac" ? "aac" : nil
        push.apply(to: &s)
        let quiet = outputOptions.quiet
        let streamID = stream
        s.onNote = { note in if !quiet { printError("rtcbox play: \(streamID ?? "whep"): \(note)") } }
        s.onRelayState = relayReporter(command: "play", streamID: stream ?? "whep", url: output, writer: writer, quiet: quiet)
        let id = stream ?? "whep"
        if seiOnly {
            s.discardMedia = true
            let printer = EventWriter.standardOutput()
            s.onSideInfo = { pts, data in
                let event = RoomEvent.playerRecvSEI(streamID: id, ptsMs: Double(pts) / 1000, data: data)
                _ = writer?.write(event)
                if !printer.write(event) { stop.raise() }   // the reader of stdout went away (| head -1)
            }
        } else if let writer {
            s.onSideInfo = { pts, data in _ = writer.write(.playerRecvSEI(streamID: id, ptsMs: Double(pts) / 1000, data: data)) }
        }
        if window {
            s.window = windowDevice
            s.output = "rtcbox play \(room ?? "")/\(stream ?? "")"
        }
        return PlayPipeline(settings: s, stop: stop)
    }

    func run() async throws {
        if let whep { return try await runWHEP(whep) }
        guard let room, let stream else { throw ValidationError("give a ROOM and a STREAM (or --whep URL)") }
        outputOptions.applyToLibav()
        let stop = StopSignal()
        try self.pipeline(stop).checkWindow()  // before connecting: no display, nothing to play into
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "player"),
                                    logger: makeLogger("rtcbox.play", outputOptions))
        let session = try ClientSession(client: roomClient, stop: stop, events: outputOptions.events, tokenSource: client.tokenSource)
        let pipeline = self.pipeline(stop, writer: session.writer)
        let queue = MediaQueue(capacity: 2048)
        let streamID = stream
        nonisolated(unsafe) var previous: (StreamCounters, Date)?
        let progress = ProgressLine(quiet: outputOptions.quiet) { elapsed in
            ProgressLine.render(elapsed: elapsed, counters: roomClient.playerCounters(streamID), previous: &previous,
                                rttMs: roomClient.rttMs, state: session.state(ofStream: streamID))
        }
        defer { progress.finish() }
        var runError: Error?
        do {
            _ = try await roomClient.login(roomID: room, userStatus: false)
            try await roomClient.play(streamID: stream, into: queue, layer: layer?.value)
            let summary = try await pipeline.run(queue: queue)
            progress.finish()
            if !outputOptions.quiet {
                printError(String(format: "rtcbox play: %@: %d video, %d audio frames, %.1f s written (%@)", stream,
                                  summary.videoFrames, summary.audioFrames, summary.mediaSeconds, summary.ending.words))
            }
        } catch {
            runError = error
        }
        try await session.conclude(runError)
    }

    /// `--whep URL`: the same outputs, the frames from a WHEP session instead of a room. Events name the
    /// stream "whep"; the session ends with DELETE.
    func runWHEP(_ endpoint: String) async throws {
        outputOptions.applyToLibav()
        let stop = StopSignal()
        InterruptHandler.shared.onInterrupt { stop.raise() }
        let writer = try outputOptions.events.map { try EventWriter(destination: $0) }
        let pipeline = self.pipeline(stop, writer: writer)
        try pipeline.checkWindow()
        let bearer = self.bearer ?? ProcessInfo.processInfo.environment["RTCBOX_BEARER"].flatMap { $0.isEmpty ? nil : $0 }
        let trust = try WHIPTrust.option(caFile)
        let queue = MediaQueue(capacity: 2048)
        _ = writer?.write(.playerState(streamID: "whep", state: .playRequesting, errorCode: nil, reason: ""))
        let client: WHIPClient
        do {
            client = try await WHIPClient.start(.play(queue), endpoint: endpoint, bearer: bearer, trust: trust, group: MultiThreadedEventLoopGroup.singleton)
        } catch let error as RoomClientError {
            _ = writer?.write(.playerState(streamID: "whep", state: .noPlay, errorCode: error.code, reason: error.reason))
            throw error
        }
        _ = writer?.write(.mediaTransport(streamID: "whep", role: "player", transport: "udp", reason: "connected to \(client.remote)"))
        _ = writer?.write(.playerState(streamID: "whep", state: .playing, errorCode: nil, reason: ""))
        var runError: Error?
        do {
            let summary = try await pipeline.run(queue: queue)
            if !outputOptions.quiet {
                printError(String(format: "rtcbox play: whep: %d video, %d audio frames, %.1f s written (%@)",
                                  summary.videoFrames, summary.audioFrames, summary.mediaSeconds, summary.ending.words))
            }
        } catch {
            runError = error
        }
        await client.close()
        _ = writer?.write(.playerState(streamID: "whep", state: .noPlay, errorCode: nil, reason: "stopped"))
        if let runError { throw runError }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }
}
