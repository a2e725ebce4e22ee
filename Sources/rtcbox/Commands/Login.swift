import ArgumentParser
import Foundation
import Media
import RoomClient
import RoomProtocol

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a room and print its events as JSON lines.",
        discussion: """
        Prints room_state, room_user_update and room_stream_update events (one JSON object per line) on \
        stdout, or to --events FILE, until interrupted or --duration elapses. Streams already live arrive \
        as a room_stream_update "add"; user events come only with --user-status.
        """)

    @Argument(help: "The room id (created by its first login).")
    var room: String

    @OptionGroup var client: ClientOptions

    @Flag(name: .long, help: "Receive room_user_update events (users joining and leaving).")
    var userStatus = false

    @Option(name: .long, help: ArgumentHelp("Stay logged in this long (e.g. 30, 10s, 2m), then log out.", valueName: "duration"))
    var duration: DurationValue?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
    }

    func run() async throws {
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "login"))
        let stop = StopSignal()
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events ?? "-")
        _ = try await roomClient.login(roomID: room, userStatus: userStatus)
        let deadline = duration.map { Date().addingTimeInterval($0.seconds) }
        while !stop.isRaised {
            if let deadline, Date() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let failure = session.failure
        await session.finish()
        if let failure { throw failure }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }
}
