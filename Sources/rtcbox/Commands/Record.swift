import ArgumentParser
import Foundation
import Media
import RoomClient
import RoomProtocol

struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record every stream of a room (or the named ones) into crash-safe files.",
        discussion: """
        Follows the room: each stream is recorded while it is live, one file per publish (and per --segment), \
        named DIR/ROOM/STREAM/START-UTC.EXT, without re-encoding. MP4 is fragmented with fragments of at \
        most 1 s, so a recorder killed with SIGKILL loses about a second; Matroska and MPEG-TS are written as \
        they go. Each file has a JSON sidecar (FILE.json: stream, user, start, end, codec parameters). The \
        path of each finished file is printed on stdout. Runs until interrupted or --duration elapses.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Option(name: .long, help: ArgumentHelp("Only these stream ids, comma-separated (recorded whenever they are live).", valueName: "list"))
    var streams: String?

    @Option(name: .long, help: ArgumentHelp("Directory for the recordings.", valueName: "dir"))
    var dir = "."

    @Option(name: .long, help: ArgumentHelp("Container of the files: mp4 (fragmented), matroska (mkv), mpegts (ts), nut or flv, the names play takes.", valueName: "format"))
    var format = "mp4"

    @Option(name: .long, help: ArgumentHelp("Start a new file at the first keyframe after this long (e.g. 10m).", valueName: "duration"))
    var segment: DurationValue?

    @Option(name: .long, help: ArgumentHelp("Stop recording after this long.", valueName: "duration"))
    var duration: DurationValue?

    @Option(name: .long, help: ArgumentHelp("copy keeps each stream's audio codec (Opus too: mp4, mkv and ts carry it); aac transcodes Opus to AAC.", valueName: "copy|aac"))
    var audioCodec = "copy"

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    var streamFilter: [String]? { RoomFollower.parse(streams) }

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        guard ["copy", "aac"].contains(audioCodec) else { throw ValidationError("--audio-codec must be copy or aac, not \"\(audioCodec)\"") }
        for id in streamFilter ?? [] {
            if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--streams: \(problem)") }
        }
        guard ContainerFormat.named(format) != nil else {
            throw ValidationError("--format \"\(format)\" is not one of \(ContainerFormat.namesList)")
        }
        if output.events == "-" { throw ValidationError("stdout lists the finished files; send --events to a file") }
    }

    func run() async throws {
        output.applyToLibav()
        let stop = StopSignal()
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "recorder"),
                                    logger: makeLogger("rtcbox.record", output))
        let follower = RoomFollower(filter: streamFilter, stop: stop, deadline: duration.map { Date().addingTimeInterval($0.seconds) })
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events, tokenSource: client.tokenSource) { event in
            follower.observe(event)
        }
        var settings = RecordSettings(directory: dir, roomID: room)
        if let container = ContainerFormat.named(format) { settings.format = container }
        settings.segmentSeconds = segment?.seconds
        settings.audioCodec = audioCodec == "aac" ? "aac" : nil
        let quiet = output.quiet
        settings.onNote = { note in if !quiet { printError("rtcbox record: \(note)") } }
        var recorders: [String: Task<[RecordedFile], Error>] = [:]
        let recording = RecordingBoard()
        nonisolated(unsafe) var previous: (StreamCounters, Date)?
        let progress = ProgressLine(quiet: output.quiet) { elapsed in
            let ids = recording.streams
            var total = StreamCounters()
            var live = 0
            for id in ids {
                guard let c = roomClient.playerCounters(id) else { continue }
                // A stream asked for (--streams) and not live yet is not being recorded.
                if c.videoFrames + c.audioFrames > 0 { live += 1 }
                total.videoFrames += c.videoFrames
                total.audioFrames += c.audioFrames
                total.bytes += c.bytes
                total.framesDropped += c.framesDropped
                total.latencyTotalMicroseconds += c.latencyTotalMicroseconds
                total.latencySamples += c.latencySamples
            }
            return ProgressLine.render(elapsed: elapsed, counters: total, previous: &previous, rttMs: roomClient.rttMs,
                                       state: "recording \(live) stream\(live == 1 ? "" : "s"), \(recording.files) file\(recording.files == 1 ? "" : "s") done")
        }
        defer { progress.finish() }
        var runError: Error?
        do {
            _ = try await roomClient.login(roomID: room, userStatus: false)
            follower.loggedIn()
            for await ids in follower.added {
                for id in ids where recorders[id] == nil {
                    let queue = MediaQueue(capacity: 4096)
                    try await roomClient.play(streamID: id, into: queue)
                    let recorder = StreamRecorder(settings: settings, streamID: id, stop: stop)
                    recording.add(id)
                    recorders[id] = Task {
                        try await recorder.run(queue: queue) { file in
                            recording.fileDone()
                            progress.clearLine()
                            print(file.path)
                        }
                    }
                }
            }
        } catch {
            runError = error
            stop.raise()
        }
        progress.finish()
        // What was recorded: a stream asked for (--streams) that never went live made no file and is not counted.
        var files = 0, recorded = 0
        var neverLive: [String] = []
        for (id, task) in recorders.sorted(by: { $0.key < $1.key }) {
            do {
                let count = try await task.value.count
                files += count
                if count > 0 { recorded += 1 } else { neverLive.append(id) }
            } catch {
                if runError == nil { runError = error }
            }
        }
        if !output.quiet {
            let absent = neverLive.isEmpty ? "" : " (\(neverLive.joined(separator: ", ")) \(neverLive.count == 1 ? "was" : "were") never live)"
            printError("rtcbox record: \(files) file\(files == 1 ? "" : "s") from \(recorded) stream\(recorded == 1 ? "" : "s")\(absent)")
        }
        try await session.conclude(runError)
    }
}

/// What the recorder is doing, for its progress line.
final class RecordingBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    private var done = 0

    func add(_ id: String) { lock.withLock { ids.append(id) } }
    func fileDone() { lock.withLock { done += 1 } }
    var streams: [String] { lock.withLock { ids } }
    var files: Int { lock.withLock { done } }
}
