import ArgumentParser
import Foundation
import Media
import NIOConcurrencyHelpers
import NIOPosix
import RoomClient
import RoomProtocol

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture or read media, encode H.264 + AAC, and publish it as a stream of a room.",
        discussion: """
        Inputs are given like ffmpeg's: a -f FORMAT applies to the next -i INPUT. Any libavformat or \
        libavdevice input works: -f lavfi -i testsrc2=size=1280x720:rate=30, -f lavfi -i sine, \
        -f v4l2 -i /dev/video0, -f alsa -i default, -f pulse -i default, -f x11grab -i :0, a file, a URL, \
        or - for stdin. Video comes from the first input that has video, audio from the first that has audio. \
        Files and lavfi are read at their native rate (live); capture devices, stdin and network streams at their own. \
        With --whip URL the stream goes to any WHIP server (RFC 9725: OBS's, MediaMTX's, rtcbox serve's \
        /whip/ROOM/STREAM) over WebRTC instead of into a room: no ROOM or STREAM then.
        """)

    @Argument(help: "The room id (not with --whip).")
    var room: String?

    @Argument(help: "The stream id, unique within the app (not with --whip).")
    var stream: String?

    @Option(name: .long, help: ArgumentHelp("Publish to this WHIP endpoint over WebRTC (H.264 + AAC or Opus), not into a room; DELETE on its session at the end.", valueName: "url"))
    var whip: String?

    @Option(name: .long, help: ArgumentHelp("Authorization: Bearer TOKEN for --whip (env RTCBOX_BEARER).", valueName: "token"))
    var bearer: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM certificates to trust for an https --whip server besides the system's: a self-signed server's own certificate, or a private CA's.", valueName: "file"))
    var caFile: String?

    @OptionGroup var encode: EncodeOptions

    @Option(name: .long, help: ArgumentHelp("Stream extra info shown to the room.", valueName: "text"))
    var extraInfo: String?

    @Option(name: .long, help: ArgumentHelp("Traffic control: lower the video bit rate when the uplink carries less than the stream, and climb back when it recovers (traffic_control events). Frames that wait too long for the link are dropped either way (video to the next keyframe). Environment RTCBOX_TRAFFIC_CONTROL.", valueName: "on|off"))
    var trafficControl: Switch?

    @Option(name: .long, help: ArgumentHelp("The lowest video bit rate traffic control goes down to (default a tenth of --video-bitrate, at least 50k).", valueName: "rate"))
    var minVideoBitrate: BitRateValue?

    @Flag(name: .long, help: "Read JSON commands from stdin while publishing (set_stream_extra_info, send_message, send_sei, mute_video, unmute_audio...; see rtcbox login).")
    var stdinCommands = false

    @Flag(name: .long, help: "Send each line of stdin as side info (H.264 SEI) with the next video frame; players see player_recv_sei events (up to 4096 bytes a line).")
    var seiStdin = false

    @Option(name: .long, help: ArgumentHelp("Measure the captured sound level every MS milliseconds (100-3000; 0: not at all): it rides with the audio, for logins that ask for sound levels, and is a captured_sound_level_update event. Not in --copy mode.", valueName: "ms"))
    var soundLevelInterval = 100

    @Option(name: .long, help: ArgumentHelp("Send the video in two layers from one capture: 2 (a small layer at half size), or BIG,SMALL sizes (WxH or 720p, 360p...: the first sets the size). Players get the big one unless they ask (play --layer); over the room connection, not UDP.", valueName: "2|big,small"))
    var layers: LayersValue?

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let whip {
            if let problem = WHIPSignaling.check(whip) { throw ValidationError("--whip: \(problem)") }
            if room != nil || stream != nil { throw ValidationError("--whip publishes to its URL, not to a ROOM and STREAM: give one or the other") }
            if stdinCommands { throw ValidationError("--stdin-commands needs a room: it does not go with --whip") }
            if extraInfo != nil { throw ValidationError("--extra-info needs a room: it does not go with --whip") }
        } else {
            guard let room, let stream else { throw ValidationError("give a ROOM and a STREAM (or --whip URL)") }
            if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
            if let problem = Identifier.problem(with: stream, kind: .stream) { throw ValidationError(problem) }
            if bearer != nil { throw ValidationError("--bearer goes with --whip; a room login takes --token") }
            if caFile != nil { throw ValidationError("--ca-file goes with --whip (an https server's certificate)") }
        }
        if (extraInfo?.utf8.count ?? 0) > 1024 { throw ValidationError("--extra-info is longer than 1024 bytes") }
        if stdinCommands && encode.inputs.contains("-") { throw ValidationError("--stdin-commands and -i - both want stdin") }
        if seiStdin && encode.inputs.contains("-") { throw ValidationError("--sei-stdin and -i - both want stdin") }
        if seiStdin && stdinCommands { throw ValidationError("--sei-stdin and --stdin-commands both read stdin (send_sei is a command)") }
        if seiStdin && encode.noVideo { throw ValidationError("--sei-stdin rides the video: it does not go with --no-video") }
        if layers != nil {
            if encode.copy { throw ValidationError("--layers encodes a second layer; --copy passes packets through without encoding") }
            if encode.noVideo { throw ValidationError("--layers is video layers: it does not go with --no-video") }
            if whip != nil { throw ValidationError("--layers needs a room: a WHIP session carries one video layer") }
            if client.transportText == "udp" { throw ValidationError("--layers travel on the room connection: they do not go with --transport udp") }
            if layers?.big != nil && encode.size != nil { throw ValidationError("--layers BIG,SMALL sets the size: leave out --size") }
        }
        if soundLevelInterval != 0 && !(100...3000).contains(soundLevelInterval) {
            throw ValidationError("--sound-level-interval must be 0 (off) or 100 to 3000 ms")
        }
        if let min = minVideoBitrate, min.bitsPerSecond > encode.encoder.videoBitrate.bitsPerSecond {
            throw ValidationError("--min-video-bitrate is above --video-bitrate")
        }
    }

    func trafficControlOn() throws -> Bool { try Switch.trafficControl(trafficControl) }

    /// What traffic control steers for these tracks: nil when off, and in --copy mode (nothing to re-encode).
    func trafficSettings(_ tracks: [TrackInfo], _ settings: PublishSettings, on: Bool) -> TrafficController.Settings? {
        guard on, !settings.copy, let video = tracks.first(where: { $0.kind == .video }) else { return nil }
        let audio = tracks.first { $0.kind == .audio }.map { $0.bitRate ?? 64_000 } ?? 0
        return TrafficController.Settings(maxVideoBitRate: video.bitRate ?? settings.videoBitRate,
                                          minVideoBitRate: settings.minVideoBitRate, otherBitRate: audio + 16_000)
    }

    func run() async throws {
        if let whip { return try await runWHIP(whip) }
        guard let room, let stream else { throw ValidationError("give a ROOM and a STREAM (or --whip URL)") }
        output.applyToLibav()
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "publisher"),
                                    logger: makeLogger("rtcbox.publish", output))
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events, tokenSource: client.tokenSource)
        let pipeline = PublishPipeline(settings: try publishSettings(), stop: stop)
        let trafficOn = try trafficControlOn()
        let streamID = stream, extraInfo = self.extraInfo, commands = stdinCommands
        let roomDefaultApplies = encode.scenario == nil && !encode.copy, keeps = scenarioKeeps(), quiet = output.quiet
        let final = NIOLockedValueBox(pipeline.settings)
        let sideInfo = SideInfoQueue()
        if seiStdin { Self.readSideInfo(into: sideInfo) }
        nonisolated(unsafe) var previous: (StreamCounters, Date)?
        let progress = ProgressLine(quiet: output.quiet) { elapsed in
            ProgressLine.render(elapsed: elapsed, counters: roomClient.publisherCounters(streamID), previous: &previous,
                                rttMs: roomClient.rttMs, state: session.state(ofStream: streamID))
        }
        defer { progress.finish() }
        var runError: Error?
        do {
            let summary = try await pipeline.run(prepare: { settings in
                // Inputs are open (a bad one has failed by now); the login tells the room's scenario before the
                // encoders open.
                let login = try await roomClient.login(roomID: room, userStatus: false)
                guard roomDefaultApplies, let scenario = login.scenario else { return settings }
                var s = settings
                scenario.apply(to: &s, keeping: keeps)
                final.withLockedValue { $0 = s }
                if !quiet { printError("rtcbox publish: room \(room) has the \(scenario.rawValue) scenario (the server's default; --scenario or explicit flags win)") }
                return s
            }) { tracks in
                let traffic = self.trafficSettings(tracks, final.withLockedValue { $0 }, on: trafficOn)
                let publisher = try await roomClient.publish(streamID: streamID, tracks: tracks, extraInfo: extraInfo,
                                                             trafficControl: traffic)
                if commands { StdinCommands.start(client: roomClient, writer: session.writer, stop: nil, sideInfo: sideInfo, publishing: streamID) }
                return SideInfoSink(base: publisher, queue: sideInfo)
            }
            progress.finish()
            if !output.quiet {
                printError(String(format: "rtcbox publish: %@ stopped after %.1f s of media (%d video, %d audio frames, %d dropped)",
                                  streamID, summary.mediaSeconds, summary.videoFrames, summary.audioFrames, summary.framesDropped))
            }
        } catch {
            runError = error
        }
        try await session.conclude(runError)
    }

    /// `--whip URL`: the same inputs and encoders, the frames to a WHIP session instead of a room. Events name
    /// the stream "whip"; the session ends with DELETE (and the media session's close_notify).
    func runWHIP(_ endpoint: String) async throws {
        output.applyToLibav()
        let stop = StopSignal()
        InterruptHandler.shared.onInterrupt { stop.raise() }
        let writer = try output.events.map { try EventWriter(destination: $0) }
        let pipeline = PublishPipeline(settings: try publishSettings(), stop: stop)
        let bearer = self.bearer ?? ProcessInfo.processInfo.environment["RTCBOX_BEARER"].flatMap { $0.isEmpty ? nil : $0 }
        let trust = try WHIPTrust.option(caFile)
        let quiet = output.quiet
        let trafficOn = try trafficControlOn()
        let logger = makeLogger("rtcbox.publish", output)
        let session = NIOLockedValueBox<WHIPClient?>(nil)
        let sideInfo = SideInfoQueue()
        if seiStdin { Self.readSideInfo(into: sideInfo) }
        let failure = NIOLockedValueBox<String?>(nil)
        let closing = NIOLockedValueBox(false)
        var runError: Error?
        do {
            let summary = try await pipeline.run { tracks in
                _ = writer?.write(.publisherState(streamID: "whip", state: .publishRequesting, errorCode: nil, reason: ""))
                do {
                    let client = try await WHIPClient.start(.publish(tracks), endpoint: endpoint, bearer: bearer, trust: trust,
                                                            group: MultiThreadedEventLoopGroup.singleton,
                                                            trafficControl: self.trafficSettings(tracks, pipeline.settings, on: trafficOn), onEvent: { event in
                        switch event {
                        case .failed(let reason):
                            failure.withLockedValue { $0 = $0 ?? reason }
                            stop.raise()
                        case .closed where !closing.withLockedValue({ $0 }):
                            failure.withLockedValue { $0 = $0 ?? "the server closed it" }
                            stop.raise()
                        default:
                            break
                        }
                    }, onTrafficControl: { report in
                        logger.info("publish whip: \(report.logLine)")
                        _ = writer?.write(.trafficControl(report))
                    })
                    session.withLockedValue { $0 = client }
                    _ = writer?.write(.mediaTransport(streamID: "whip", role: "publisher", transport: "udp", reason: "connected to \(client.remote)"))
                    _ = writer?.write(.publisherState(streamID: "whip", state: .publishing, errorCode: nil, reason: ""))
                    if !quiet { printError("rtcbox publish: publishing to \(endpoint) over WebRTC (media to \(client.remote))") }
                    return SideInfoSink(base: client, queue: sideInfo)
                } catch let error as RoomClientError {
                    _ = writer?.write(.publisherState(streamID: "whip", state: .noPublish, errorCode: error.code, reason: error.reason))
                    throw error
                }
            }
            if !quiet {
                printError(String(format: "rtcbox publish: WHIP session stopped after %.1f s of media (%d video, %d audio frames)",
                                  summary.mediaSeconds, summary.videoFrames, summary.audioFrames))
            }
        } catch {
            runError = error
        }
        closing.withLockedValue { $0 = true }
        await session.withLockedValue { $0 }?.close()
        _ = writer?.write(.publisherState(streamID: "whip", state: .noPublish, errorCode: nil, reason: "stopped"))
        if let why = failure.withLockedValue({ $0 }) {
            throw RoomClientError.connectionLost("the WHIP session's media ended: \(why)")
        }
        if let runError { throw runError }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }

    /// The encoder options with the sound level interval.
    /// What a scenario (given, or the room's) leaves alone: the flags given, layers where they cannot go.
    func scenarioKeeps() -> Set<Scenario.Field> {
        var keep = encode.scenarioKeeps()
        if layers != nil || whip != nil || client.transportText == "udp" { keep.insert(.layers) }
        if minVideoBitrate != nil { keep.insert(.minVideoBitRate) }
        return keep
    }

    func publishSettings() throws -> PublishSettings {
        var settings = try encode.settings(extraKeeps: scenarioKeeps())
        if let min = minVideoBitrate { settings.minVideoBitRate = min.bitsPerSecond }
        settings.soundLevelIntervalMs = soundLevelInterval > 0 ? soundLevelInterval : nil
        if let layers {
            if let big = layers.big { (settings.width, settings.height) = (big.width, big.height) }
            settings.smallLayer = PublishSettings.SmallLayer(width: layers.small?.width, height: layers.small?.height)
        }
        return settings
    }

    /// `--sei-stdin`: each line of stdin (without its newline) is side info for the next video frame; a line
    /// that cannot go is one line on stderr and skipped.
    static func readSideInfo(into queue: SideInfoQueue) {
        Thread.detachNewThread {
            var n = 0
            while let line = readLine(strippingNewline: true) {
                n += 1
                guard !line.isEmpty else { continue }
                do { try queue.send(Array(line.utf8)) } catch { printError("rtcbox publish: stdin line \(n) not sent: \(error)") }
            }
        }
    }
}
