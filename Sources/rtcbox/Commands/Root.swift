import ArgumentParser
import RoomServer

struct Rtcbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtcbox",
        abstract: "Real-time audio/video rooms: a server and the tools that log in, publish and play.",
        discussion: """
        Invoked through a link named like a subcommand (publish, rtcbox-publish...), rtcbox runs that subcommand.
        Exit status: 0 ok, 1 failure, 64 usage, 65 bad input data, 66 input missing, 69 server unavailable, \
        75 temporary failure, 77 refused by the server (auth, duplicate stream, kicked out), 78 bad configuration, \
        130 interrupted.
        """,
        version: RtcboxVersion.string,
        subcommands: [Serve.self, Token.self, Login.self, Publish.self, Play.self, Record.self, Relay.self, Mix.self, Preview.self, Devices.self, LoadTestCommand.self, InstallLinks.self])

    /// Names a link may have to run a subcommand (`publish` or `rtcbox-publish`).
    static var subcommandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName ?? String(describing: $0).lowercased() }
    }
}
