import ArgumentParser
import Foundation
import Media
import RoomClient
import RoomProtocol

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a room, print its events as JSON lines, and act in it.",
        discussion: """
        Prints room_state, room_user_update, room_stream_update, room_extra_info_update, \
        room_stream_extra_info_update, remote_camera_state_update, remote_mic_state_update, broadcast_message, \
        remote_sound_level_update (with --sound-levels), \
        custom_command and token_will_expire events (one \
        JSON object per line) on stdout, or to --events FILE, until interrupted or --duration elapses. Streams \
        already live arrive as a room_stream_update "add"; user events come only with --user-status. \
        --send-message and --set-extra-info act once logged in; --stdin-commands reads one JSON command per \
        line (send_message, set_extra_info, custom_command, set_stream_extra_info, renew_token, logout; on publish \
        also send_sei, mute_video, unmute_video, mute_audio, unmute_audio) and \
        answers each with a command_result event.
        """)

    @Argument(help: "The room id (created by its first login).")
    var room: String

    @OptionGroup var client: ClientOptions

    @Flag(name: .long, help: "Receive room_user_update events (users joining and leaving).")
    var userStatus = false

    @Option(name: .long, help: ArgumentHelp("Send a broadcast message to the room once logged in (repeatable).", valueName: "text"))
    var sendMessage: [String] = []

    @Option(name: .long, help: ArgumentHelp("Set a key of the room's extra info once logged in (repeatable).", valueName: "key=value"))
    var setExtraInfo: [String] = []

    @Flag(name: .long, help: "Read JSON commands from stdin, one per line; the end of stdin logs out.")
    var stdinCommands = false

    @Flag(name: .long, help: "Receive remote_sound_level_update events: how loud each stream of the room is (0-100), as its publisher measures it, when it changes.")
    var soundLevels = false

    @Flag(name: .long, help: "Log out as soon as the --send-message and --set-extra-info actions are done.")
    var once = false

    @Option(name: .long, help: ArgumentHelp("Stay logged in this long (e.g. 30, 10s, 2m), then log out.", valueName: "duration"))
    var duration: DurationValue?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        for message in sendMessage where message.isEmpty || message.utf8.count > RoomLimits.messageLength {
            throw ValidationError("--send-message must be 1 to \(RoomLimits.messageLength) bytes")
        }
        _ = try extraInfoPairs()
        if once && stdinCommands { throw ValidationError("--once and --stdin-commands cannot be used together") }
    }

    func extraInfoPairs() throws -> [(String, String)] {
        try setExtraInfo.map { item in
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("--set-extra-info \"\(item)\" is not KEY=VALUE")
            }
            let key = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            if key.utf8.count > RoomLimits.extraInfoKeyLength { throw ValidationError("--set-extra-info key is longer than \(RoomLimits.extraInfoKeyLength) bytes") }
            if value.utf8.count > RoomLimits.extraInfoValueLength { throw ValidationError("--set-extra-info value is longer than \(RoomLimits.extraInfoValueLength) bytes") }
            return (key, value)
        }
    }

    func run() async throws {
        let roomClient = RoomClient(configuration: try client.configuration(defaultUserPrefix: "login"),
                                    logger: makeLogger("rtcbox.login", output))
        let stop = StopSignal()
        let session = try ClientSession(client: roomClient, stop: stop, events: output.events ?? "-", tokenSource: client.tokenSource)
        do {
            _ = try await roomClient.login(roomID: room, userStatus: userStatus, soundLevels: soundLevels)
        } catch {
            try await session.conclude(error)  // writes the refusal's room_state event before exiting
            return
        }
        do {
            for (key, value) in try extraInfoPairs() { try await roomClient.setRoomExtraInfo(key: key, value: value) }
            for message in sendMessage { try await roomClient.sendBroadcastMessage(message) }
        } catch {
            await session.finish()
            throw error
        }
        if stdinCommands { StdinCommands.start(client: roomClient, writer: session.writer, stop: stop) }
        let deadline = duration.map { Date().addingTimeInterval($0.seconds) }
        while !stop.isRaised && !once {
            if let deadline, Date() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        try await session.conclude()
    }
}
