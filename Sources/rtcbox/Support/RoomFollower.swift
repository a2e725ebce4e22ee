import Foundation
import Media
import RoomClient

/// The streams of a room as they go live, for commands that follow a room (record, relay): the ids of
/// every `room_stream_update` add (the streams live at login come as one), filtered by `--streams`, and
/// the filter's ids at once (each is taken whenever it is live). Ends when `stop` is raised or the
/// deadline passes (and raises `stop` then).
final class RoomFollower: Sendable {
    let added: AsyncStream<[String]>
    private let sink: AsyncStream<[String]>.Continuation
    private let filter: [String]?
    private let watchdog: Task<Void, Never>

    init(filter: [String]?, stop: StopSignal, deadline: Date?) {
        (added, sink) = AsyncStream.makeStream(of: [String].self)
        self.filter = filter
        let sink = self.sink
        watchdog = Task {
            while !stop.isRaised {
                if let deadline, Date() >= deadline { stop.raise() }
                try? await Task.sleep(for: .milliseconds(50))
            }
            sink.finish()
        }
    }

    /// The session's event hook.
    func observe(_ event: RoomEvent) {
        if case .roomStreamUpdate(let u) = event, u.updateType == .add {
            sink.yield(u.streams.map(\.streamID).filter { filter?.contains($0) ?? true })
        }
    }

    /// After the login: the filter's streams are wanted whether live yet or not.
    func loggedIn() {
        if let filter { sink.yield(filter) }
    }

    /// `--streams a,b,c` as ids (blanks dropped).
    static func parse(_ list: String?) -> [String]? {
        list.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    deinit { watchdog.cancel() }
}
