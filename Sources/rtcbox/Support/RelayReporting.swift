import ArgumentParser
import Media
import RoomClient

/// A push's state changes (`play -o rtmp://…`, `relay`) as `relay_state` events and, unless quiet, one
/// line each on stderr; the URL with its secrets redacted.
func relayReporter(command: String, streamID: String, url: String, writer: EventWriter?, quiet: Bool) -> @Sendable (RelayState) -> Void {
    let shown = NetworkOutput.redacted(url)
    return { state in
        var reason = "", retry: Double?
        if case .retrying(let after, let why) = state {
            reason = why
            retry = after
        }
        _ = writer?.write(.relayState(streamID: streamID, url: shown, state: state.name, reason: reason, retryInSeconds: retry))
        guard !quiet else { return }
        switch state {
        case .connecting: break
        case .relaying: printError("rtcbox \(command): \(streamID): pushing to \(shown)")
        case .retrying(let after, let why):
            printError(String(format: "rtcbox %@: %@: the push to %@ dropped (%@); again in %.0f s", command, streamID, shown, why, after))
        }
    }
}

/// How long a push to a server waits on it: shared by play, relay and mix.
struct PushOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A push to a server (-o URL) that the server keeps waiting this long (a connect, a write) counts as dropped: an error for a first connection, else a retry.", valueName: "duration"))
    var pushTimeout = DurationValue(seconds: 10)

    func apply(to settings: inout PlaySettings) { settings.pushTimeout = pushTimeout.seconds }
}
