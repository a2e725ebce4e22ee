import ArgumentParser
import Foundation
import Media
import RoomClient
import RoomProtocol

struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push every stream of a room (or the named ones) to RTMP, SRT or RIST servers as they come and go.",
        discussion: """
        The CDN relay of a whole room: each stream, while it is live, is pushed without re-encoding to the \
        --to URL with {stream} (and {room}) replaced by its ids: FLV to rtmp://, MPEG-TS to srt://, rist://, \
        udp://. Each push reconnects with backoff when its server drops or refuses (also at the first \
        connection) and follows publisher restarts. relay_state events per stream. Runs until interrupted or \
        --duration elapses.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Option(name: .long, help: ArgumentHelp("Where each stream goes: a URL with {stream} (and {room}), e.g. rtmp://cdn/live/{stream}.", valueName: "url"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("Only these stream ids, comma-separated (pushed whenever they are live).", valueName: "list"))
    var streams: String?

    @Option(name: .long, help: ArgumentHelp("Container: flv for rtmp://; mpegts (default), matroska or nut for the others.", valueName: "format"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this long.", valueName: "duration"))
    var duration: DurationValue?

    @OptionGroup var push: PushOptions

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    /// The push URL of one stream.
    static func url(_ template: String, room: String, stream: String) -> String {
        template.replacingOccurrences(of: "{stream}", with: stream).replacingOccurrences(of: "{room}", with: room)
    }

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        guard NetworkOutput.scheme(of: to) != nil else {
            throw ValidationError("--to must be a server URL (\(NetworkOutput.allCases.map { "\($0.rawValue)://" }.joined(separator: ", "))), not \"\(NetworkOutput.redacted(to))\"")
        }
        let filter = RoomFollower.parse(streams)
        for id in filter ?? [] {
            if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--streams: \(problem)") }
        }
        if !to.contains("{stream}") && (filter?.count ?? 2) > 1 {
            throw ValidationError("--to has no {stream}: every stream would go to the same URL (give one with --streams, or put {stream} in the URL)")
        }
        do { _ = try OutputFormat.muxerName(format: format, output: Self.url(to, room: room, stream: "s")) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        output.applyToLibav()
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "relay"),
                                    logger: makeLogger("rtcbox.relay", output))
        let follower = RoomFollower(filter: RoomFollower.parse(streams), stop: stop, deadline: duration.map { Date().addingTimeInterval($0.seconds) })
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events, tokenSource: client.tokenSource) { event in
            follower.observe(event)
        }
        let quiet = output.quiet
        var pushes: [String: Task<PlaySummary, Error>] = [:]
        var runError: Error?
        do {
            _ = try await roomClient.login(roomID: room, userStatus: false)
            follower.loggedIn()
            for await ids in follower.added {
                for id in ids where pushes[id] == nil {
                    let url = Self.url(to, room: room, stream: id)
                    var settings = PlaySettings(output: url, format: format)
                    settings.untilStreamEnds = false   // a publisher that comes back is pushed again
                    settings.relayRetriesFirstConnection = true
                push.apply(to: &settings)
                    settings.onNote = { note in if !quiet { printError("rtcbox relay: \(id): \(note)") } }
                    settings.onRelayState = relayReporter(command: "relay", streamID: id, url: url, writer: session.writer, quiet: quiet)
                    let queue = MediaQueue(capacity: 2048)
                    try await roomClient.play(streamID: id, into: queue)
                    let pipeline = PlayPipeline(settings: settings, stop: stop)
                    pushes[id] = Task { try await pipeline.run(queue: queue) }
                }
            }
        } catch {
            runError = error
            stop.raise()
        }
        var frames = 0
        for (id, task) in pushes.sorted(by: { $0.key < $1.key }) {
            do {
                frames += try await task.value.videoFrames
            } catch {
                if !quiet { printError("rtcbox relay: \(id): \(error)") }
                if runError == nil { runError = error }
            }
        }
        if !quiet {
            printError("rtcbox relay: \(pushes.count) stream\(pushes.count == 1 ? "" : "s") pushed (\(frames) video frames)")
        }
        try await session.conclude(runError)
    }
}
