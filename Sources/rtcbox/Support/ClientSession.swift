import Foundation
import Logging
import Media
import RoomClient
import RoomProtocol

/// Runs a client's event loop for a command: writes events where asked, stops the pipeline when the
/// session ends (kicked out, server gone), and remembers why.
final class ClientSession: Sendable {
    let client: RoomClient
    let stop: StopSignal
    let writer: EventWriter?
    private let watcher: Task<Void, Never>
    private let board = StateBoard()

    init(client: RoomClient, stop: StopSignal, events: String?, tokenSource: TokenSource? = nil,
         onEvent: (@Sendable (RoomEvent) -> Void)? = nil) throws {
        self.client = client
        self.stop = stop
        let writer = try events.map { try EventWriter(destination: $0) }
        self.writer = writer
        let board = self.board
        watcher = Task {
            for await event in client.events {
                board.note(event)
                onEvent?(event)
                if let writer, !writer.write(event) {
                    stop.raise()  // whoever read the events is gone: stop as a pipe's writer should
                }
                switch event {
                case .roomState(_, let state, _, _, _) where state == .kickedOut || state == .disconnected || state == .reconnectFailed:
                    stop.raise()
                case .tokenWillExpire(let notice):
                    Self.renew(client, from: tokenSource, remaining: notice.remainingSeconds)
                case .mediaTransport(let streamID, _, "none", let reason):
                    // --transport udp and no UDP: the command cannot do its work; it ends, saying why (69).
                    board.noteTransportFailure("\(streamID): no media over UDP: \(reason)")
                    stop.raise()
                default:
                    break
                }
            }
        }
        InterruptHandler.shared.onInterrupt { stop.raise() }
    }

    /// The latest state of a published or played stream ("publishing", "play_requesting"...), else the room's.
    func state(ofStream streamID: String) -> String { board.state(streamID) }

    /// Gets a fresh token from the file or command and renews the session's token with it.
    private static func renew(_ client: RoomClient, from source: TokenSource?, remaining: Int) {
        guard let source else {
            printWarning("the login token expires in \(remaining) s and there is no --token-file or --token-command to renew it")
            return
        }
        Task {
            do {
                let token = try source.fetch()
                try await client.renewToken(token)
            } catch {
                printWarning("cannot renew the login token from the \(source.description): \(CLIError(error).message)")
            }
        }
    }

    /// The error that ended the session early, if any.
    var failure: RoomClientError? {
        guard let reason = client.endReason else { return nil }
        if case .connectionLost = reason, InterruptHandler.shared.wasInterrupted { return nil }
        return reason
    }

    /// Logs out and throws what ended the command, in this order: the session's own end (kicked out, server
    /// gone, gave up reconnecting), the command's error, an interrupt (130).
    func conclude(_ runError: Error? = nil) async throws {
        let failure = self.failure
        await finish()
        if let failure { throw failure }
        if let transport = board.transportFailure { throw CLIError(.unavailable, transport) }
        if let runError { throw runError }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }

    /// Logs out (a bounded wait) and flushes events.
    func finish() async {
        if client.endReason == nil { await client.logout() } else { client.close() }
        let watcher = self.watcher
        let drained = Task { await watcher.value }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(2))
            watcher.cancel()
        }
        _ = await drained.value
        timeout.cancel()
    }
}

/// The latest room, publisher and player states seen in events, for the progress line.
final class StateBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var room = "logining"
    private var streams: [String: String] = [:]
    private var transport: String?

    /// Why media could not go over UDP when it had to (`--transport udp`), if it could not.
    var transportFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return transport
    }

    func noteTransportFailure(_ why: String) {
        lock.lock()
        defer { lock.unlock() }
        if transport == nil { transport = why }
    }

    func note(_ event: RoomEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .roomState(_, let s, _, _, _): room = s.rawValue
        case .publisherState(let id, let s, _, _): streams[id] = s.rawValue
        case .playerState(let id, let s, _, _): streams[id] = s.rawValue
        default: break
        }
    }

    func state(_ streamID: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if room != "logined" { return room }
        return streams[streamID] ?? room
    }
}

func makeLogger(_ label: String, _ options: OutputOptions) -> Logger {
    makeLogger(label, options.log)
}

func makeLogger(_ label: String, _ options: LogOptions) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = options.level
    return logger
}
