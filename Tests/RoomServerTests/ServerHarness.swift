import Foundation
import NIOCore
import NIOPosix
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// A real server on 127.0.0.1 (a free port) and real clients connecting to it.
final class ServerHarness {
    let server: RoomServer
    let port: Int

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        var config = ServerConfiguration()
        config.port = 0
        config.threads = 2
        configure(&config)
        server = RoomServer(configuration: config)
        let address = try await server.start()
        port = address.port ?? 0
    }

    func client(_ user: String, appID: UInt32 = 1, token: String? = nil, appSign: String? = nil) -> RoomClient {
        RoomClient(configuration: ClientConfiguration(host: "127.0.0.1", port: port, appID: appID,
                                                      user: UserInfo(userID: user, userName: user), token: token, appSign: appSign))
    }

    /// A client reaching the server through another port (a proxy), with its configuration adjusted.
    func client(_ user: String, port: Int, _ configure: (inout ClientConfiguration) -> Void) -> RoomClient {
        var c = ClientConfiguration(host: "127.0.0.1", port: port, user: UserInfo(userID: user, userName: user))
        configure(&c)
        return RoomClient(configuration: c)
    }

    func stop() async { await server.stop() }
}

/// Collects a client's events so tests can wait for one.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RoomEvent] = []
    private var task: Task<Void, Never>?

    init(_ client: RoomClient) {
        task = Task { [weak self] in
            for await e in client.events { self?.append(e) }
        }
    }

    private func append(_ e: RoomEvent) {
        lock.lock()
        events.append(e)
        lock.unlock()
    }

    var all: [RoomEvent] {
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    /// Waits up to `seconds` for an event matching `predicate`.
    func wait(_ seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line,
              for predicate: (RoomEvent) -> Bool) async -> RoomEvent? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let e = all.first(where: predicate) { return e }
            try? await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("event not seen in \(seconds) s; saw: \(all.map(\.name))", file: file, line: line)
        return nil
    }
}

extension RoomEvent {
    var userUpdate: RoomUserUpdate? { if case .roomUserUpdate(let u) = self { return u } else { return nil } }
    var streamUpdate: RoomStreamUpdate? { if case .roomStreamUpdate(let u) = self { return u } else { return nil } }
    var roomState: RoomState? { if case .roomState(_, let s, _, _, _) = self { return s } else { return nil } }
    var roomStateCode: RoomErrorCode? { if case .roomState(_, _, let c, _, _) = self { return c } else { return nil } }
}

/// Sends synthetic frames (no codec involved: the server forwards bytes, it never decodes).
func sendFrames(_ publisher: StreamPublisher, count: Int, gop: Int, startIndex: Int = 0) {
    for i in startIndex..<(startIndex + count) {
        let key = i % gop == 0
        let payload: [UInt8] = [0, 0, 0, 1, key ? 0x65 : 0x41] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
        payload.withUnsafeBytes { raw in
            _ = publisher.send(track: .video, keyframe: key, pts: Int64(i) * 33_333, dts: Int64(i) * 33_333,
                               captureTime: UInt64(Date().timeIntervalSince1970 * 1_000_000), payload: raw)
        }
    }
}

/// The frame index a synthetic payload carries.
func frameIndex(_ frame: MediaFrame) -> Int {
    let bytes = Array(frame.payload.readableBytesView)
    guard bytes.count >= 9 else { return -1 }
    return Int(bytes[5]) << 24 | Int(bytes[6]) << 16 | Int(bytes[7]) << 8 | Int(bytes[8])
}

func drain(_ queue: MediaQueue, seconds: Double, until: (([PlayerItem]) -> Bool)) -> [PlayerItem] {
    var items: [PlayerItem] = []
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let item = queue.pop(until: Date().addingTimeInterval(0.05)) {
            items.append(item)
            if until(items) { break }
        }
    }
    return items
}

let videoTrack = TrackInfo(kind: .video, codec: "h264", width: 320, height: 240, frameRate: 30)
