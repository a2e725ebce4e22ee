import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RoomClient
import RoomProtocol

/// `rtcbox load-test`: real publishers and players of the room protocol in one process, in the spirit of
/// `lk load-test`. Publishers send synthetic media shaped like a live stream (30 video frames a second
/// with a keyframe every 2 s, 47 AAC-sized audio frames a second); players count what arrives, how late
/// (from the capture clock in each frame), and how long each waited for its first frame.
public struct LoadTestSettings: Sendable {
    public var host: String
    public var port: Int
    public var appID: UInt32 = 1
    public var token: String?
    public var roomID: String
    public var publishers = 1
    public var subscribers = 10
    public var seconds = 10.0
    public var videoBitRate = 2_000_000
    public var audioBitRate = 64_000
    /// Players log in asking for user events (every join is told to every member that asked).
    public var userStatus = false
    /// Broadcast messages a second, sent by the first publisher (or a messenger when there is none);
    /// every member times their delivery.
    public var messagesPerSecond = 0.0

    public init(host: String, port: Int, roomID: String) {
        self.host = host
        self.port = port
        self.roomID = roomID
    }
}

public struct LoadTestReport: Sendable {
    public var publishers = 0
    public var subscribers = 0
    public var subscribersJoined = 0
    public var seconds = 0.0
    public var framesSent = 0
    public var framesReceived = 0
    /// Frames players did not get: what the server or their queues dropped, counted against what was
    /// published while they played.
    public var framesDropped = 0
    public var kbpsInPerStream = 0.0
    public var kbpsOutTotal = 0.0
    public var videoLatencyMs: (p50: Double, p99: Double) = (0, 0)
    public var audioLatencyMs: (p50: Double, p99: Double) = (0, 0)
    public var joinMs: (p50: Double, p99: Double) = (0, 0)
    public var loginMs: (p50: Double, p99: Double) = (0, 0)
    public var messagesSent = 0
    public var messageDeliveries = 0
    public var messageDeliveryMs: (p50: Double, p99: Double) = (0, 0)
    public var userEventsReceived = 0

    public var json: [String: Any] {
        [
            "publishers": publishers, "subscribers": subscribers, "subscribers_joined": subscribersJoined,
            "seconds": seconds, "frames_sent": framesSent, "frames_received": framesReceived, "frames_dropped": framesDropped,
            "kbps_in_per_stream": kbpsInPerStream, "kbps_out_total": kbpsOutTotal,
            "video_latency_ms": ["p50": videoLatencyMs.p50, "p99": videoLatencyMs.p99],
            "audio_latency_ms": ["p50": audioLatencyMs.p50, "p99": audioLatencyMs.p99],
            "join_ms": ["p50": joinMs.p50, "p99": joinMs.p99], "login_ms": ["p50": loginMs.p50, "p99": loginMs.p99],
            "messages_sent": messagesSent, "message_deliveries": messageDeliveries,
            "message_delivery_ms": ["p50": messageDeliveryMs.p50, "p99": messageDeliveryMs.p99],
            "user_events_received": userEventsReceived,
        ]
    }
}

public final class LoadTest: Sendable {
    public let settings: LoadTestSettings
    private let stop: StopSignal

    /// Logs the run's steps at info (-v); each client's own steps (connect, login, play) at debug (-vv) only,
    /// so a thousand clients do not bury them.
    private let logger: Logger

    public init(settings: LoadTestSettings, stop: StopSignal,
                logger: Logger = Logger(label: "rtcbox.load-test", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.settings = settings
        self.stop = stop
        self.logger = logger
    }

    private func client(_ user: String) -> RoomClient {
        var c = ClientConfiguration(host: settings.host, port: settings.port, appID: settings.appID,
                                    user: UserInfo(userID: user, userName: user), token: settings.token)
        c.qualityIntervalSeconds = 0
        c.reconnectTimeoutSeconds = 0
        var clientLogger = logger
        clientLogger[metadataKey: "user"] = "\(user)"
        if clientLogger.logLevel > .debug { clientLogger.logLevel = max(clientLogger.logLevel, .notice) }
        return RoomClient(configuration: c, logger: clientLogger)
    }

    public func run() async throws -> LoadTestReport {
        let s = settings
        var report = LoadTestReport()
        report.publishers = s.publishers
        report.subscribers = s.subscribers
        var loginTimes: [Double] = []
        // Publishers.
        var publishers: [(RoomClient, StreamPublisher)] = []
        let track = [TrackInfo(kind: .video, codec: "h264", width: 1280, height: 720, frameRate: 30, bitRate: s.videoBitRate),
                     TrackInfo(kind: .audio, codec: "aac", sampleRate: 48000, channels: 2, bitRate: s.audioBitRate, extradata: "EZA=")]
        for i in 0..<s.publishers {
            let c = client("load-pub-\(i)")
            let t0 = Date()
            _ = try await c.login(roomID: s.roomID, userStatus: false)
            loginTimes.append(Date().timeIntervalSince(t0) * 1000)
            publishers.append((c, try await c.publish(streamID: "load-\(i)", tracks: track)))
        }
        if s.publishers > 0 {
            logger.info("\(s.publishers) publisher\(s.publishers == 1 ? "" : "s") logged in to \(s.roomID) and publishing")
        }
        var messenger: RoomClient? = publishers.first?.0
        if messenger == nil && s.messagesPerSecond > 0 {
            let c = client("load-messenger")
            _ = try await c.login(roomID: s.roomID, userStatus: false)
            messenger = c
        }
        let deliveries = NIOLockedValueBox<[Double]>([])
        let userEvents = NIOLockedValueBox(0)
        let streams = publishers.map(\.1)
        let senderDone = NIOLockedValueBox(false)
        let sender = Thread { [stop] in
            Self.send(streams, settings: s, stop: stop)
            senderDone.withLockedValue { $0 = true }
        }
        sender.start()
        // Subscribers, spread over the streams, logging in as fast as the server takes them.
        let players = NIOLockedValueBox<[Player]>([])
        try await withThrowingTaskGroup(of: (Player, Double).self) { group in
            for j in 0..<s.subscribers {
                group.addTask {
                    let c = self.client("load-sub-\(j)")
                    // Members time broadcast messages ("t=<µs>") and count user events.
                    Task {
                        for await event in c.events {
                            switch event {
                            case .broadcastMessage(let m):
                                if m.message.hasPrefix("t="), let sent = UInt64(m.message.dropFirst(2)) {
                                    let now = StreamCounters.wallClock()
                                    deliveries.withLockedValue { $0.append(now > sent ? Double(now - sent) / 1000 : 0) }
                                }
                            case .roomUserUpdate(let u): userEvents.withLockedValue { $0 += u.users.count }
                            default: break
                            }
                        }
                    }
                    let t0 = Date()
                    _ = try await c.login(roomID: s.roomID, userStatus: s.userStatus)
                    let login = Date().timeIntervalSince(t0) * 1000
                    let player = Player(client: c, queue: MediaQueue(capacity: 4096), asked: Date())
                    if s.publishers > 0 {
                        try await c.play(streamID: "load-\(j % s.publishers)", into: player.queue)
                    }
                    return (player, login)
                }
                if j % 50 == 49 { try await Task.sleep(for: .milliseconds(20)) }  // a ramp, not a thundering herd
            }
            for try await (p, login) in group {
                players.withLockedValue { $0.append(p) }
                loginTimes.append(login)
            }
        }
        let all = players.withLockedValue { $0 }
        logger.info("\(all.count) player\(all.count == 1 ? "" : "s") logged in\(s.publishers > 0 ? " and playing" : ""); measuring for \(s.seconds) s")
        // Broadcast messages at the asked rate, stamped with the wall clock.
        let messages = NIOLockedValueBox(0)
        let sender2 = messenger
        let messageTask = Task { [stop] in
            guard let messenger = sender2, s.messagesPerSecond > 0 else { return }
            let interval = 1 / s.messagesPerSecond
            while !stop.isRaised {
                if (try? await messenger.sendBroadcastMessage("t=\(StreamCounters.wallClock())")) != nil {
                    messages.withLockedValue { $0 += 1 }
                }
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
        // One thread drains every player's queue and measures (polling: a 1 ms pass over every queue when
        // all were empty). With no publisher nothing can arrive, so it only waits for the end.
        let started = Date()
        var video: [Double] = [], audio: [Double] = [], joins: [Double] = []
        var received = 0
        while Date().timeIntervalSince(started) < s.seconds && !stop.isRaised {
            guard s.publishers > 0 else {
                usleep(10_000)
                continue
            }
            var idle = true
            let now = StreamCounters.wallClock()
            for p in all {
                while let item = p.queue.tryPop() {
                    idle = false
                    guard case .frame(let f) = item else { continue }
                    received += 1
                    if p.firstFrame == nil {
                        p.firstFrame = Date()
                        joins.append(Date().timeIntervalSince(p.asked) * 1000)
                    }
                    let latency = now > f.header.captureTime ? Double(now - f.header.captureTime) / 1000 : 0
                    if f.header.track == .video { video.append(latency) } else { audio.append(latency) }
                }
            }
            if idle { usleep(1000) }
        }
        // Frames were counted until here: what follows (the last deliveries, the senders stopping) is not.
        let measured = Date().timeIntervalSince(started)
        logger.info("measured \(String(format: "%.1f", measured)) s: \(received) frames received; stopping")
        stop.raise()
        await messageTask.value
        try? await Task.sleep(for: .milliseconds(300))  // the last messages' deliveries
        while !senderDone.withLockedValue({ $0 }) && !streams.isEmpty { usleep(1000) }
        let elapsed = Date().timeIntervalSince(started)
        report.seconds = (elapsed * 10).rounded() / 10
        report.framesReceived = received
        report.framesSent = publishers.reduce(0) { $0 + $1.1.counters.frames }
        let perStreamFramesPerSecond = s.publishers > 0 ? 30.0 + 47.0 : 0
        let expected = Int(Double(all.count) * perStreamFramesPerSecond * measured)
        report.framesDropped = max(0, expected - received - all.count * 77 / 10)  // allow ~0.1 s of ramp per player
        report.subscribersJoined = all.filter { $0.firstFrame != nil }.count
        let bytesPerStream = publishers.first.map { Double($0.1.counters.bytes) } ?? 0
        report.kbpsInPerStream = (bytesPerStream * 8 / 1000 / max(elapsed, 0.001)).rounded()
        report.kbpsOutTotal = (Double(all.reduce(0) { $0 + $1.queue.counters.bytes }) * 8 / 1000 / max(elapsed, 0.001)).rounded()
        report.videoLatencyMs = Self.percentiles(video)
        report.audioLatencyMs = Self.percentiles(audio)
        report.joinMs = Self.percentiles(joins)
        report.loginMs = Self.percentiles(loginTimes)
        report.messagesSent = messages.withLockedValue { $0 }
        let delivered = deliveries.withLockedValue { $0 }
        report.messageDeliveries = delivered.count
        report.messageDeliveryMs = Self.percentiles(delivered)
        report.userEventsReceived = userEvents.withLockedValue { $0 }
        logger.info("logging out \(all.count + publishers.count) clients")
        if let messenger, publishers.isEmpty { await messenger.logout() }
        for p in all { await p.client.logout() }
        for (c, _) in publishers { await c.logout() }
        return report
    }

    final class Player: @unchecked Sendable {
        let client: RoomClient
        let queue: MediaQueue
        let asked: Date
        var firstFrame: Date?
        init(client: RoomClient, queue: MediaQueue, asked: Date) {
            self.client = client
            self.queue = queue
            self.asked = asked
        }
    }

    /// Paces synthetic frames for every publisher: video at 30 fps (keyframes every 60, 4x the size),
    /// audio at 48000/1024 frames a second.
    private static func send(_ publishers: [StreamPublisher], settings: LoadTestSettings, stop: StopSignal) {
        let videoBytes = max(100, settings.videoBitRate / 8 / 30)
        let audioBytes = max(20, settings.audioBitRate / 8 * 1024 / 48000)
        let key = [UInt8](repeating: 0xAA, count: videoBytes * 4)
        let delta = [UInt8](repeating: 0x55, count: videoBytes * 60 / 63)
        let audioFrame = [UInt8](repeating: 0x21, count: audioBytes)
        let start = Date()
        var videoIndex = 0, audioIndex = 0
        while !stop.isRaised {
            let t = Date().timeIntervalSince(start)
            let capture = StreamCounters.wallClock()
            while Double(videoIndex) / 30 <= t {
                let isKey = videoIndex % 60 == 0
                let pts = Int64(videoIndex) * 1_000_000 / 30
                let payload = [0, 0, 0, 1, isKey ? 0x65 : 0x41] + (isKey ? key : delta)
                for p in publishers {
                    payload.withUnsafeBytes { _ = p.send(track: .video, keyframe: isKey, pts: pts, dts: pts, captureTime: capture, payload: $0) }
                }
                videoIndex += 1
            }
            while Double(audioIndex) * 1024 / 48000 <= t {
                let pts = Int64(audioIndex) * 1024 * 1_000_000 / 48000
                for p in publishers {
                    audioFrame.withUnsafeBytes { _ = p.send(track: .audio, keyframe: true, pts: pts, dts: pts, captureTime: capture, payload: $0) }
                }
                audioIndex += 1
            }
            usleep(2000)
        }
    }

    static func percentiles(_ values: [Double]) -> (p50: Double, p99: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let sorted = values.sorted()
        func at(_ q: Double) -> Double { (sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))] * 10).rounded() / 10 }
        return (at(0.5), at(0.99))
    }
}
