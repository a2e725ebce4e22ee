import ArgumentParser
import Foundation
import Logging
import RoomClient
import RoomServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the room server.",
        discussion: """
        Without a configuration the server runs the dev app (id 1, no authentication) and listens on \
        127.0.0.1:7700 only. Stop it with SIGINT or SIGTERM: members are told (server_shutdown) and it exits 0.
        """)

    @Option(name: .long, help: ArgumentHelp("Listen on HOST:PORT (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:7700"

    @Option(name: .long, help: "Event loop threads (default: one per core).")
    var threads: Int = 0

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ClientConfiguration.parseAddress(listen) != nil else {
            throw ValidationError("--listen \"\(listen)\" is not HOST:PORT")
        }
        guard (0...256).contains(threads) else { throw ValidationError("--threads must be between 0 and 256") }
    }

    func run() async throws {
        var config = ServerConfiguration()
        if let (host, port) = ClientConfiguration.parseAddress(listen) {
            config.host = host
            config.port = port
        }
        config.threads = threads
        let logger = makeLogger("rtcbox.serve", output)
        let server = RoomServer(configuration: config, logger: logger)
        let address: String
        do {
            let bound = try await server.start()
            address = "\(bound.ipAddress ?? config.host):\(bound.port ?? config.port)"
        } catch {
            throw CLIError(.unavailable, "cannot listen on \(listen): \(error)")
        }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(config.host)
        printError("rtcbox serve: listening on \(address) (dev app 1, no authentication\(loopback ? ", loopback only" : ""))")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            InterruptHandler.shared.onInterrupt { continuation.resume() }
        }
        await server.stop()
        printError("rtcbox serve: stopped")
    }
}
