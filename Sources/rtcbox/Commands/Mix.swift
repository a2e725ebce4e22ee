import ArgumentParser
import Foundation
import Media
import RoomClient
import RoomProtocol

struct Mix: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compose streams of a room into one picture and one sound, and publish it as a stream or write it out.",
        discussion: """
        The mixer task of a call: plays the --streams (or every stream of the room, following them as they come \
        and go), composes their pictures with libavfilter (--layout grid, pip, or custom --region ID=x,y,w,h), \
        mixes their sound (amix, --volume ID=PERCENT), encodes once (H.264 + AAC, the encoder options of \
        publish) and publishes the result as --output-stream ID, which anyone in the room can play, or writes it \
        to -o FILE, - (stdout) or a server URL (rtmp://, srt://...). The output clock never waits for an input: \
        one that stalls or leaves keeps its region with its last picture for --hold, then the background; one \
        that joins takes the next free region. mix_input_state events per input; the mixed stream's extra info \
        names its inputs. Runs until interrupted, --duration or --frames.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Option(name: .long, help: ArgumentHelp("Publish the mix into the room as this stream id.", valueName: "id"))
    var outputStream: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the mix to a file, - for stdout, or a server URL (rtmp://, srt://...) instead of publishing it.", valueName: "path|-|url"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Container for -o: mpegts, nut, matroska, flv or mp4. Default: from the file name; mpegts on stdout.", valueName: "format"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("Only these stream ids, comma-separated, each in its own region in this order (mixed whenever they are live).", valueName: "list"))
    var streams: String?

    @Option(name: .long, help: ArgumentHelp("grid (equal cells), pip (the first input fills the picture, the others small at the bottom right) or custom (--region).", valueName: "layout"))
    var layout = "grid"

    @Option(name: .long, help: ArgumentHelp("With --layout custom: stream ID's picture in the rectangle x,y,w,h (repeatable; later regions on top).", valueName: "ID=x,y,w,h"))
    var region: [String] = []

    @Option(name: .long, help: ArgumentHelp("The mixed picture's size.", valueName: "WxH"))
    var size = VideoSizeValue(width: 1280, height: 720)

    @Option(name: .long, parsing: .unconditional, help: "The mixed picture's frame rate.")
    var fps = 30

    @Option(name: .long, help: ArgumentHelp("Background colour as ffmpeg names colours (black, navy, 0x336699).", valueName: "colour"))
    var background = "black"

    @Option(name: .long, help: ArgumentHelp("Stream ID's sound at PERCENT of its level (repeatable; default 100).", valueName: "ID=PERCENT"))
    var volume: [String] = []

    @Option(name: .long, help: ArgumentHelp("How long a stalled or departed input's last picture stays before its region shows the background.", valueName: "duration"))
    var hold = DurationValue(seconds: 2)

    @OptionGroup var encoder: EncoderOptions

    @Option(name: .long, help: ArgumentHelp("Traffic control of the published mix (as publish has it).", valueName: "on|off"))
    var trafficControl: Switch?

    @Option(name: .long, help: ArgumentHelp("Stop after this much mixed media.", valueName: "duration"))
    var duration: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Stop after this many mixed video frames.", valueName: "n"))
    var frames: Int?

    @OptionGroup var push: PushOptions

    @OptionGroup var client: ClientOptions
    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        switch (outputStream, output) {
        case (nil, nil): throw ValidationError("give --output-stream ID (publish the mix) or -o FILE|-|URL (write it)")
        case (.some, .some): throw ValidationError("--output-stream and -o both say where the mix goes: give one")
        case (.some(let id), nil):
            if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--output-stream: \(problem)") }
            if format != nil { throw ValidationError("--format goes with -o") }
        case (nil, .some(let path)):
            if path == "-" && outputOptions.events == "-" { throw ValidationError("--events - and -o - would both write to stdout; send events to a file") }
            if path == "-" && isatty(STDOUT_FILENO) == 1 { throw ValidationError("refusing to write media to a terminal: use -o FILE or a pipe (| ffplay -)") }
            if trafficControl != nil { throw ValidationError("--traffic-control steers a published mix (--output-stream)") }
        }
        if !(1...120).contains(fps) { throw ValidationError("--fps must be between 1 and 120") }
        if size.width < 64 || size.height < 64 || size.width > 3840 || size.height > 2160 {
            throw ValidationError("--size must be between 64x64 and 3840x2160")
        }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        if hold.seconds < 0 || hold.seconds > 60 { throw ValidationError("--hold must be between 0 and 60 seconds") }
        let s = try settings()
        for id in s.streams ?? [] {
            if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--streams: \(problem)") }
        }
        if let out = outputStream, s.streams?.contains(out) == true {
            throw ValidationError("--streams names the mix's own --output-stream \"\(out)\"")
        }
        do { try MixPipeline.validate(s) } catch { throw ValidationError("\(error)") }
        if let output {
            do { try PlayPipeline(settings: PlaySettings(output: output, format: format)).validate() } catch { throw ValidationError("\(error)") }
        }
    }

    /// The mixer's settings from the options (usage errors as ValidationError).
    func settings() throws -> MixSettings {
        var s = MixSettings()
        s.width = size.width - size.width % 2
        s.height = size.height - size.height % 2
        s.fps = fps
        s.background = background
        s.holdSeconds = hold.seconds
        s.videoBitRate = encoder.videoBitrate.bitsPerSecond
        s.gopSeconds = encoder.gop
        s.preset = encoder.preset
        s.audioBitRate = encoder.audioBitrate.bitsPerSecond
        s.duration = duration?.seconds
        s.frames = frames
        s.streams = RoomFollower.parse(streams)
        switch layout {
        case "grid": s.layout = .grid
        case "pip": s.layout = .pip
        case "custom":
            guard !region.isEmpty else { throw ValidationError("--layout custom needs at least one --region ID=x,y,w,h") }
            if streams != nil { throw ValidationError("--layout custom takes its streams from --region; --streams does not go with it") }
            var regions: [(streamID: String, rect: MixRect)] = []
            for text in region {
                guard let eq = text.firstIndex(of: "="), let rect = MixRect(String(text[text.index(after: eq)...])) else {
                    throw ValidationError("--region \"\(text)\" is not ID=x,y,w,h (e.g. cam=0,0,640,360)")
                }
                let id = String(text[..<eq])
                if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--region: \(problem)") }
                if regions.contains(where: { $0.streamID == id }) { throw ValidationError("--region names \"\(id)\" twice") }
                regions.append((id, rect))
            }
            s.layout = .custom(regions)
            s.streams = regions.map(\.streamID)
        default:
            throw ValidationError("--layout must be grid, pip or custom, not \"\(layout)\"")
        }
        if !region.isEmpty, layout != "custom" { throw ValidationError("--region goes with --layout custom") }
        for text in volume {
            guard let eq = text.firstIndex(of: "="), let percent = Double(text[text.index(after: eq)...]), percent >= 0, percent <= 1000 else {
                throw ValidationError("--volume \"\(text)\" is not ID=PERCENT with PERCENT from 0 to 1000 (e.g. host=150)")
            }
            s.volumes[String(text[..<eq])] = percent / 100
        }
        return s
    }

    /// The mixed stream's extra info: what it is made of.
    static func extraInfo(layout: String, inputs: [String]) -> String {
        let object: [String: Any] = ["mix": ["layout": layout, "inputs": inputs]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func run() async throws {
        outputOptions.applyToLibav()
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "mixer"),
                                    logger: makeLogger("rtcbox.mix", outputOptions))
        var settings = try settings()
        let own = outputStream
        let follower = RoomFollower(filter: settings.streams, stop: stop, deadline: nil)
        let session = try ClientSession(client: roomClient, stop: stop, events: outputOptions.events, tokenSource: client.tokenSource) { event in
            follower.observe(event)
        }
        let writer = session.writer, quiet = outputOptions.quiet, layoutName = layout
        settings.onInputState = { r in
            _ = writer?.write(.mixInputState(streamID: r.streamID, state: r.state.rawValue, region: r.region.map { [$0.x, $0.y, $0.width, $0.height] }))
            if !quiet { printError("rtcbox mix: \(r.streamID): \(r.state.rawValue)\(r.region.map { " in \($0)" } ?? "")") }
        }
        if let own {
            settings.onInputsChanged = { ids in
                Task { try? await roomClient.setStreamExtraInfo(streamID: own, extraInfo: Self.extraInfo(layout: layoutName, inputs: ids)) }
            }
        }
        let mixer = MixPipeline(settings: settings, stop: stop)
        let trafficOn = try trafficControlOn()
        var runError: Error?
        var summary = MixSummary()
        do {
            _ = try await roomClient.login(roomID: room, userStatus: false)
            let mixing: Task<MixSummary, Error>
            if let own {
                let tracks = try MixPipeline.tracks(settings)
                let traffic = trafficOn ? TrafficController.Settings(maxVideoBitRate: settings.videoBitRate, minVideoBitRate: nil,
                                                                     otherBitRate: settings.audioBitRate + 16_000) : nil
                let publisher = try await roomClient.publish(streamID: own, tracks: tracks, extraInfo: Self.extraInfo(layout: layout, inputs: []),
                                                             trafficControl: traffic)
                mixing = Task { try await mixer.run(sink: publisher) }
                if !quiet { printError("rtcbox mix: publishing the \(layout) mix of room \(room) as \(own)") }
            } else {
                var play = PlaySettings(output: output ?? "-", format: format)
                play.onNote = { note in if !quiet { printError("rtcbox mix: \(note)") } }
                push.apply(to: &play)
                play.onRelayState = relayReporter(command: "mix", streamID: "mix", url: output ?? "-", writer: writer, quiet: quiet)
                mixing = Task { try await mixer.run(output: play).0 }
            }
            follower.loggedIn()
            let following = Task {
                var playing: Set<String> = []
                for await ids in follower.added {
                    for id in ids where id != own && !playing.contains(id) {
                        playing.insert(id)
                        let queue = MediaQueue(capacity: 2048)
                        try await roomClient.play(streamID: id, into: queue)
                        mixer.add(streamID: id, queue: queue)
                    }
                }
            }
            do {
                summary = try await mixing.value
            } catch {
                runError = error
            }
            stop.raise()
            following.cancel()
            if runError == nil, case .failure(let error) = await following.result, !(error is CancellationError) { runError = error }
        } catch {
            runError = error
            stop.raise()
        }
        if !quiet && runError == nil {
            printError(String(format: "rtcbox mix: %d input%@, %d video frames (%.1f s) mixed, %d late",
                              summary.inputs.count, summary.inputs.count == 1 ? "" : "s", summary.videoFrames, summary.mediaSeconds, summary.ticksMissed))
        }
        try await session.conclude(runError)
    }

    func trafficControlOn() throws -> Bool { try Switch.trafficControl(trafficControl) }
}
