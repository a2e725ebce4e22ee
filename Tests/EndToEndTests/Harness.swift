import Foundation
import XCTest

/// Runs the built `rtcbox` binary and the ffmpeg tools as child processes.
enum Tool {
    static var buildDirectory: URL {
        // The test bundle sits next to the executables SwiftPM built.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }

    static var rtcbox: String {
        let candidate = buildDirectory.appendingPathComponent("rtcbox").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/rtcbox").path
    }

    static func find(_ name: String) -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return name
    }
}

/// A child process with captured stdout/stderr.
final class Child: @unchecked Sendable {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    private let lock = NSLock()
    private var errText = Data()
    private var outData = Data()
    /// Signalled by each pipe's reader at its end of file.
    private var readers: [DispatchSemaphore] = []

    /// Reads `handle` until end of file on a thread of its own, handing each chunk to `append`.
    private static func drain(_ handle: FileHandle, _ append: @escaping @Sendable (Data) -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let fd = handle.fileDescriptor
        // The thread holds the handle: its descriptor stays open (and is not reused) until the reading ends.
        let thread = Thread {
            withExtendedLifetime(handle) { readToEnd(fd, append) }
            done.signal()
        }
        thread.start()
        return done
    }

    private static func readToEnd(_ fd: Int32, _ append: (Data) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                append(Data(buffer[0 ..< n]))
            } else if n < 0, errno == EINTR {
                continue
            } else {
                break
            }
        }
    }

    init(_ executable: String, _ arguments: [String], stdin: Pipe? = nil, stdoutTo: Pipe? = nil,
         environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = stdoutTo ?? stdout
        process.standardError = stderr
        if let stdin { process.standardInput = stdin } else { process.standardInput = FileHandle.nullDevice }
        // Each pipe is read to its end by a thread of its own with blocking reads. (FileHandle's
        // readabilityHandler is a dispatch source: one left registered while its descriptor closed crashed
        // the whole test process in libdispatch's _dispatch_event_loop_drain, signal 11, mid-suite.)
        readers.append(Self.drain(stderr.fileHandleForReading) { [weak self] d in
            guard let self else { return }
            self.lock.lock(); self.errText.append(d); self.lock.unlock()
        })
        if stdoutTo == nil {
            readers.append(Self.drain(stdout.fileHandleForReading) { [weak self] d in
                guard let self else { return }
                self.lock.lock(); self.outData.append(d); self.lock.unlock()
            })
        }
        try process.run()
    }

    var errorText: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errText, as: UTF8.self) }
    var outputText: String { lock.lock(); defer { lock.unlock() }; return String(decoding: outData, as: UTF8.self) }

    /// Waits for exit (killing it after `timeout`); returns the status.
    @discardableResult
    func wait(timeout: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            usleep(500_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        // The last bytes: the readers reach end of file unless a grandchild still holds the pipe.
        for reader in readers { _ = reader.wait(timeout: .now() + 2) }
        return process.terminationStatus
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// `rtcbox serve` on a free port, for one test.
final class ServeProcess {
    let child: Child
    let port: Int
    var address: String { "127.0.0.1:\(port)" }

    init(_ extra: [String] = []) throws {
        child = try Child(Tool.rtcbox, ["serve", "--listen", "127.0.0.1:0"] + extra)
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        let wantsWeb = extra.contains("--web")
        while Date() < deadline && (found == nil || (wantsWeb && webPort == nil)) {
            if let range = child.errorText.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                found = Int(child.errorText[range].split(separator: ":").last ?? "")
            }
            if let range = child.errorText.range(of: #"room page on https?://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                webPort = Int(child.errorText[range].split(separator: ":").last?.dropLast() ?? "")
            }
            usleep(20_000)
        }
        guard let found, !wantsWeb || webPort != nil else { throw NSError(domain: "serve did not start: \(child.errorText)", code: 1) }
        port = found
    }

    /// The port of the room page and its WebSocket (with `--web 127.0.0.1:0`).
    private(set) var webPort: Int?

    func stop() -> Int32 {
        child.signal(SIGTERM)
        return child.wait(timeout: 10)
    }
}

/// ffprobe facts about a media file.
struct Probe {
    struct Stream { var codec: String; var width: Int; var height: Int; var frames: Int }
    var streams: [Stream] = []
    var videoDts: [Int64] = []
    var firstVideoKeyframe = false

    init(path: String) throws {
        let s = try Child(Tool.find("ffprobe"), ["-v", "error", "-count_frames", "-show_entries",
                                                 "stream=codec_name,width,height,nb_read_frames", "-of", "json", path])
        s.wait()
        let json = try JSONSerialization.jsonObject(with: Data(s.outputText.utf8)) as? [String: Any]
        for entry in json?["streams"] as? [[String: Any]] ?? [] {
            streams.append(Stream(codec: entry["codec_name"] as? String ?? "?", width: entry["width"] as? Int ?? 0,
                                  height: entry["height"] as? Int ?? 0, frames: Int(entry["nb_read_frames"] as? String ?? "") ?? 0))
        }
        let p = try Child(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts,flags",
                                                 "-of", "csv=p=0", path])
        p.wait()
        let rows = p.outputText.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        videoDts = rows.compactMap { $0.first.flatMap { Int64($0) } }
        firstVideoKeyframe = rows.first.map { $0.count > 1 && $0[1].contains("K") } ?? false
    }

    var video: Stream? { streams.first { $0.codec == "h264" } }
    var audio: Stream? { streams.first { $0.codec == "aac" } }
    var dtsStrictlyIncreasing: Bool { zip(videoDts, videoDts.dropFirst()).allSatisfy { $0 < $1 } }

    /// What `ffmpeg -v error -i PATH -f null -` prints (nothing for a clean file).
    static func decodeErrors(path: String) throws -> String {
        let c = try Child(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
        c.wait()
        return c.errorText
    }
}

/// Runs a short command to its end; returns (status, stdout, stderr).
func runTool(_ executable: String, _ arguments: [String], timeout: Double = 60,
             environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let child = try Child(executable, arguments, environment: environment)
    let status = child.wait(timeout: timeout)
    return (status, child.outputText, child.errorText)
}

/// This test process's scratch directory (recordings, configs, copies), removed when the process exits.
let scratchDirectory: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtcbox-e2e-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: scratchDirectory) }
    return dir
}()

func temporaryPath(_ name: String) -> String {
    scratchDirectory.appendingPathComponent(name).path
}

let testSource = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
