import ArgumentParser
import Foundation
import RoomClient
import RoomProtocol

/// Where the server is and who logs in: shared by every client command.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Room server HOST:PORT (env RTCBOX_SERVER).", valueName: "host:port"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Application id (env RTCBOX_APP_ID). The embedded server's dev app is 1.", valueName: "id"))
    var appID: UInt32?

    @Option(name: .long, help: ArgumentHelp("Login token (env RTCBOX_TOKEN).", valueName: "token"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("User id, unique within the app (default: a random one).", valueName: "id"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("User name shown to others (default: the user id).", valueName: "name"))
    var userName: String?

    func validate() throws {
        if let user, let problem = Identifier.problem(with: user, kind: .user) {
            throw ValidationError(problem)
        }
        if address == nil {
            throw ValidationError("--server \"\(serverText)\" is not HOST:PORT")
        }
    }

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    var serverText: String { server ?? environment["RTCBOX_SERVER"] ?? "127.0.0.1:\(RoomProtocolConstants.defaultPort)" }

    var address: (host: String, port: Int)? { ClientConfiguration.parseAddress(serverText) }

    func configuration(defaultUserPrefix: String) throws -> ClientConfiguration {
        guard let address else { throw CLIError(.usage, "--server \"\(serverText)\" is not HOST:PORT") }
        let appText = environment["RTCBOX_APP_ID"]
        var app: UInt32 = 1
        if let appID { app = appID } else if let appText {
            guard let v = UInt32(appText) else { throw CLIError(.usage, "RTCBOX_APP_ID \"\(appText)\" is not a number") }
            app = v
        }
        let userID = user ?? "\(defaultUserPrefix)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        return ClientConfiguration(host: address.host, port: address.port, appID: app,
                                   user: UserInfo(userID: userID, userName: userName ?? userID),
                                   token: token ?? environment["RTCBOX_TOKEN"])
    }
}

/// `--events` and logging, shared by client commands.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write JSON-lines events to FILE, or - for stdout.", valueName: "file|-"))
    var events: String?

    @Flag(name: [.short, .long], help: "Log more on stderr (repeat for debug).")
    var verbose: Int

    @Flag(name: [.short, .long], help: "Log only errors on stderr.")
    var quiet = false
}
