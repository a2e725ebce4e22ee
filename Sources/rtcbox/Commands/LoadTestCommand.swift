import ArgumentParser
import Foundation
import Media
import RoomProtocol

struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-test",
        abstract: "Publishers and players of a room in one process, with a table of what they saw.",
        discussion: """
        In the spirit of `lk load-test`: P publishers send synthetic media shaped like a live stream (30 \
        video frames a second with a keyframe every 2 s at --video-bitrate, 47 audio frames a second), S \
        players spread over their streams count what arrives. Prints streams, bit rates, end-to-end latency \
        p50/p99 (from the capture clock in every frame), time from play to first frame, login time and \
        frames dropped; --json for scripts. Loopback and test servers only: it logs in P + S users.
        """)

    @Argument(help: "The room id.")
    var room: String

    @Option(name: .long, help: "Publishers (one stream each).")
    var publishers = 1

    @Option(name: .long, help: "Players, spread over the streams.")
    var subscribers = 10

    @Option(name: .long, help: ArgumentHelp("How long to measure after everyone joined (e.g. 20s).", valueName: "duration"))
    var duration = DurationValue(seconds: 10)

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Video bit rate of each synthetic stream (e.g. 2M).", valueName: "rate"))
    var videoBitrate = BitRateValue(bitsPerSecond: 2_000_000)

    @Flag(name: .long, help: "Players ask for user events (each join goes to every member that asked).")
    var userStatus = false

    @Option(name: .long, help: ArgumentHelp("Broadcast messages a second to the room; members time their delivery.", valueName: "n"))
    var messagesPerSecond: Double = 0

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var client: ClientOptions

    @OptionGroup var log: LogOptions

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        guard (0...1000).contains(publishers) else { throw ValidationError("--publishers must be between 0 and 1000") }
        guard messagesPerSecond >= 0 && messagesPerSecond <= 1000 else { throw ValidationError("--messages-per-second must be between 0 and 1000") }
        guard (0...20000).contains(subscribers) else { throw ValidationError("--subscribers must be between 0 and 20000") }
        try videoBitrate.check("--video-bitrate")
    }

    func run() async throws {
        let config = try client.configuration(defaultUserPrefix: "load")
        var settings = LoadTestSettings(host: config.host, port: config.port, roomID: room)
        settings.appID = config.appID
        settings.token = config.token
        settings.publishers = publishers
        settings.subscribers = subscribers
        settings.seconds = duration.seconds
        settings.videoBitRate = videoBitrate.bitsPerSecond
        settings.userStatus = userStatus
        settings.messagesPerSecond = messagesPerSecond
        let stop = StopSignal()
        InterruptHandler.shared.onInterrupt { stop.raise() }
        let r = try await LoadTest(settings: settings, stop: stop, logger: makeLogger("rtcbox.load-test", log)).run()
        if json {
            let data = try JSONSerialization.data(withJSONObject: r.json, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func pair(_ p: (p50: Double, p99: Double)) -> String { String(format: "%.1f / %.1f", p.p50, p.p99) }
        let rows = [
            ("streams", "\(r.publishers)"), ("subscribers", "\(r.subscribers) (\(r.subscribersJoined) got frames)"),
            ("seconds", String(format: "%.1f", r.seconds)),
            ("kbps per stream in", String(format: "%.0f", r.kbpsInPerStream)), ("kbps out, all players", String(format: "%.0f", r.kbpsOutTotal)),
            ("video latency ms p50 / p99", pair(r.videoLatencyMs)), ("audio latency ms p50 / p99", pair(r.audioLatencyMs)),
            ("join ms p50 / p99 (play to first frame)", pair(r.joinMs)), ("login ms p50 / p99", pair(r.loginMs)),
            ("frames received", "\(r.framesReceived)"), ("frames dropped", "\(r.framesDropped)"),
            ("messages sent / delivered", "\(r.messagesSent) / \(r.messageDeliveries)"),
            ("message delivery ms p50 / p99", pair(r.messageDeliveryMs)), ("user events received", "\(r.userEventsReceived)"),
        ]
        for (k, v) in rows { print(k.padding(toLength: 42, withPad: " ", startingAt: 0) + v) }
    }
}
