import Foundation
import RoomClient

/// Writes events as JSON lines to stdout or a file, one write per line (so `tail -f` and pipes see each at once).
final class EventWriter: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    private init(handle: FileHandle) { self.handle = handle }

    /// A writer to stdout (what `--events -` makes).
    static func standardOutput() -> EventWriter { EventWriter(handle: FileHandle.standardOutput) }

    init(destination: String) throws {
        if destination == "-" {
            handle = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: destination, contents: nil),
                  let h = FileHandle(forWritingAtPath: destination) else {
                throw CLIError(.noInput, "cannot write events to \"\(destination)\"")
            }
            handle = h
        }
    }

    /// Writes one event line. Returns false when the reader went away (EPIPE: `| head` is done).
    @discardableResult
    func write(_ event: RoomEvent) -> Bool {
        write(line: event.json())
    }

    /// Writes one JSON object (already rendered, no newline) as a line.
    @discardableResult
    func write(line object: String) -> Bool {
        let line = object + "\n"
        lock.lock()
        defer { lock.unlock() }
        do {
            try handle.write(contentsOf: Data(line.utf8))
            return true
        } catch {
            return false
        }
    }
}
