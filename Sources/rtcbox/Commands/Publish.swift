import ArgumentParser
import Foundation
import Media
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
        Files and lavfi are read at their native rate (live); capture devices at their own.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Argument(help: "The stream id, unique within the app.")
    var stream: String

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("An input (repeatable; - is stdin).", valueName: "input"))
    var inputs: [String] = []

    @Option(name: [.customShort("f"), .customLong("format-in")], help: ArgumentHelp("Format or device of the next -i (lavfi, v4l2, alsa, pulse, x11grab, mpegts...).", valueName: "format"))
    var formats: [String] = []

    @Option(name: .long, help: ArgumentHelp("Output video size, WxH (default: the input's).", valueName: "WxH"))
    var size: VideoSizeValue?

    @Option(name: .long, help: "Output frame rate (default: the input's, else 30).")
    var fps: Int?

    @Option(name: .long, help: ArgumentHelp("Video bit rate (e.g. 2M, 800k).", valueName: "rate"))
    var videoBitrate = BitRateValue(argument: "2M")!

    @Option(name: .long, help: ArgumentHelp("Keyframe interval in seconds.", valueName: "seconds"))
    var gop: Double = 2

    @Option(name: .long, help: "libx264 preset (ultrafast ... veryslow).")
    var preset = "veryfast"

    @Option(name: .long, help: ArgumentHelp("Audio bit rate (e.g. 64k).", valueName: "rate"))
    var audioBitrate = BitRateValue(argument: "64k")!

    @Flag(name: .long, help: "Pass H.264 and AAC through without re-encoding (bit-identical packets); other codecs are refused.")
    var copy = false

    @Flag(name: .long, help: "Publish no video even if an input has some.")
    var noVideo = false

    @Flag(name: .long, help: "Publish no audio even if an input has some.")
    var noAudio = false

    @Flag(name: .long, inversion: .prefixedNo, help: "Read files and lavfi at native rate (default); capture devices are always live.")
    var realtime = true

    @Option(name: .long, help: ArgumentHelp("Stop after this much media (e.g. 30, 10s, 1m).", valueName: "duration"))
    var duration: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Stream extra info shown to the room.", valueName: "text"))
    var extraInfo: String?

    @Flag(name: .long, help: "Read JSON commands from stdin while publishing (set_stream_extra_info, send_message...; see rtcbox login).")
    var stdinCommands = false

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        if let problem = Identifier.problem(with: stream, kind: .stream) { throw ValidationError(problem) }
        if inputs.isEmpty { throw ValidationError("no input: give at least one -i (e.g. -f lavfi -i testsrc2)") }
        if noVideo && noAudio { throw ValidationError("--no-video and --no-audio leave nothing to publish") }
        if let fps, !(1...240).contains(fps) { throw ValidationError("--fps must be between 1 and 240") }
        if !(gop > 0 && gop <= 60) { throw ValidationError("--gop must be between 0 and 60 seconds") }
        if !Self.presets.contains(preset) { throw ValidationError("--preset \"\(preset)\" is not one of \(Self.presets.joined(separator: ", "))") }
        if (extraInfo?.utf8.count ?? 0) > 1024 { throw ValidationError("--extra-info is longer than 1024 bytes") }
        if stdinCommands && inputs.contains("-") { throw ValidationError("--stdin-commands and -i - both want stdin") }
        _ = try inputSpecs()
    }

    func inputSpecs() throws -> [InputSpec] {
        let pairs = try InputPairing.pair(arguments: Array(CommandLine.arguments.dropFirst()))
        guard pairs.map(\.url) == inputs else {
            // The raw scan and the parser disagree (unusual spelling such as -ifile): pair by position.
            return inputs.enumerated().map { i, url in InputSpec(url: url, format: i < formats.count ? formats[i] : nil) }
        }
        return pairs.map { InputSpec(url: $0.url, format: $0.format) }
    }

    func settings() throws -> PublishSettings {
        var s = PublishSettings(inputs: try inputSpecs())
        s.width = size?.width
        s.height = size?.height
        s.frameRate = fps
        s.videoBitRate = videoBitrate.bitsPerSecond
        s.gopSeconds = gop
        s.preset = preset
        s.audioBitRate = audioBitrate.bitsPerSecond
        s.useVideo = !noVideo
        s.useAudio = !noAudio
        s.realtime = realtime ? nil : false
        s.duration = duration?.seconds
        s.copy = copy
        return s
    }

    func run() async throws {
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "publisher"))
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events, tokenSource: client.tokenSource)
        let pipeline = PublishPipeline(settings: try settings(), stop: stop)
        let streamID = stream, room = self.room, extraInfo = self.extraInfo, commands = stdinCommands
        nonisolated(unsafe) var previous: (StreamCounters, Date)?
        let progress = ProgressLine(quiet: output.quiet) { elapsed in
            ProgressLine.render(elapsed: elapsed, counters: roomClient.publisherCounters(streamID), previous: &previous,
                                rttMs: roomClient.rttMs, state: session.state(ofStream: streamID))
        }
        defer { progress.finish() }
        var runError: Error?
        do {
            let summary = try await pipeline.run { tracks in
                _ = try await roomClient.login(roomID: room, userStatus: false)
                let publisher = try await roomClient.publish(streamID: streamID, tracks: tracks, extraInfo: extraInfo)
                if commands { StdinCommands.start(client: roomClient, writer: session.writer, stop: nil) }
                return publisher
            }
            progress.finish()
            if !output.quiet {
                printError(String(format: "rtcbox publish: %@ stopped after %.1f s of media (%d video, %d audio frames, %d dropped)",
                                  streamID, summary.mediaSeconds, summary.videoFrames, summary.audioFrames, summary.framesDropped))
            }
        } catch {
            runError = error
        }
        let failure = session.failure
        await session.finish()
        if let failure { throw failure }
        if let runError { throw runError }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }
}
