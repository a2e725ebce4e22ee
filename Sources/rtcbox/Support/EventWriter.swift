import Foundation
import RoomClient

/// Writes events as JSON lines to stdout or a file, one write per line (so `tail -f` and pipes see each at once).
final class EventWriter: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

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

    func write(_ event: RoomEvent) {
        let line = event.json() + "\n"
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(line.utf8))
    }
}
