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
        Files and lavfi are read at their native rate (live); capture devices, stdin and network streams at their own.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Argument(help: "The stream id, unique within the app.")
    var stream: String

    @OptionGroup var encode: EncodeOptions

    @Option(name: .long, help: ArgumentHelp("Stream extra info shown to the room.", valueName: "text"))
    var extraInfo: String?

    @Flag(name: .long, help: "Read JSON commands from stdin while publishing (set_stream_extra_info, send_message...; see rtcbox login).")
    var stdinCommands = false

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        if let problem = Identifier.problem(with: stream, kind: .stream) { throw ValidationError(problem) }
        if (extraInfo?.utf8.count ?? 0) > 1024 { throw ValidationError("--extra-info is longer than 1024 bytes") }
        if stdinCommands && encode.inputs.contains("-") { throw ValidationError("--stdin-commands and -i - both want stdin") }
    }

    func run() async throws {
        output.applyToLibav()
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "publisher"))
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events, tokenSource: client.tokenSource)
        let pipeline = PublishPipeline(settings: try encode.settings(), stop: stop)
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
        try await session.conclude(runError)
    }
}
