import Foundation
import RoomClient

/// ffmpeg's status line: on a terminal, one line on stderr rewritten every second
/// (`elapsed 00:00:12 fps 30.0 kbps 2043 latency 34 ms rtt 1 ms dropped 0 state playing`).
/// Nothing when stderr is not a terminal or with --quiet, so logs and pipes never see control codes.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var wrote = false

    static func isWanted(quiet: Bool) -> Bool { !quiet && isatty(STDERR_FILENO) == 1 }

    /// Starts printing `render()` every second when stderr is a terminal and not `quiet`.
    init(quiet: Bool, render: @escaping @Sendable (_ elapsed: Double) -> String?) {
        guard Self.isWanted(quiet: quiet) else { return }
        let started = Date()
        task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard !Task.isCancelled, let self else { return }
                if let line = render(Date().timeIntervalSince(started)) { self.show(line) }
            }
        }
    }

    private func show(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        wrote = true
        try? FileHandle.standardError.write(contentsOf: Data(("\r" + line + "\u{1B}[K").utf8))
    }

    /// Wipes the status line (before something else is printed on the terminal); the next tick redraws it.
    func clearLine() {
        lock.lock()
        defer { lock.unlock() }
        if wrote { try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[K".utf8)) }
    }

    /// Stops and ends the line, so what follows starts on a fresh one.
    func finish() {
        task?.cancel()
        lock.lock()
        defer { lock.unlock() }
        if wrote { try? FileHandle.standardError.write(contentsOf: Data("\n".utf8)) }
        wrote = false
    }

    /// The line for one stream: figures over the last second from its running totals.
    static func render(elapsed: Double, counters: StreamCounters?, previous: inout (StreamCounters, Date)?, rttMs: Double?,
                       state: String) -> String {
        let now = Date()
        var figures = "fps    - kbps     - latency    - dropped 0"
        if let counters {
            let (before, at) = previous ?? (StreamCounters(), now.addingTimeInterval(-1))
            let q = counters.quality(since: before, seconds: now.timeIntervalSince(at), streamID: "", rttMs: rttMs)
            let latency = q.latencyMs.map { String(format: "%4.0f ms", $0) } ?? "   - ms"
            figures = String(format: "fps %4.1f kbps %5.0f latency %@ dropped %d", q.fps, q.kbps, latency, counters.framesDropped)
            previous = (counters, now)
        }
        let rtt = rttMs.map { String(format: " rtt %.0f ms", $0) } ?? ""
        return "elapsed \(clock(elapsed)) \(figures)\(rtt) state \(state)"
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds)
        return String(format: "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}
