import RoomAuth
import RoomProtocol

/// Everything `rtcbox serve` can be told. Defaults give the embedded dev server.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = RoomProtocolConstants.defaultPort
    /// Event loop threads (0: one per core).
    public var threads = 0
    /// SCHED_FIFO priority (1-99) for the event loops, so that no ordinary process preempts a fan-out
    /// (see RealtimeScheduling); nil: the ordinary scheduler.
    public var realtimePriority: Int?
    public static let realtimePriorities = 1...99
    public var maximumFrameLength = RoomProtocolConstants.defaultMaximumFrameLength
    /// Apps this server accepts. Without a config file: the dev app (id 1, no authentication).
    public var apps: [AppConfiguration] = [.development]
    /// Outbound bytes a subscriber may have pending before its video is dropped to the next keyframe.
    public var subscriberHighWaterMark = 1 << 20
    public var subscriberLowWaterMark = 1 << 18
    /// The kernel send buffer of each connection. Bounded (not autotuned up to megabytes) so that a stalled
    /// subscriber backs up into the server's own accounting within a second or two, where its video can be
    /// dropped to the next keyframe; 256 KiB still carries 20 Mbit/s at a 100 ms round trip.
    public var socketSendBufferBytes = 256 << 10
    /// TCP_NOTSENT_LOWAT of each connection: the kernel takes more only while less than this sits unsent in
    /// it (written but not yet on the wire). Without it a socket stays writable while its buffer holds
    /// seconds of media for a slow link; with it what waits stays in the server's queue, measured in time.
    public var socketNotSentLowWaterBytes = 16 << 10
    /// How old media waiting for a subscriber may get before its video is dropped to the next keyframe
    /// (and, later, its audio).
    public var dropPolicy = MediaDropPolicy()
    /// A subscriber that stays unable to take media this long is disconnected with slow_consumer.
    public var slowConsumerTimeoutSeconds: Double = 10
    /// The largest GOP (bytes) the server keeps per stream for joining players.
    public var gopCacheLimitBytes = 8 << 20
    /// token_will_expire is sent this long before a session's token expires.
    public var tokenWarningSeconds: Double = 30
    /// A dropped connection keeps its user and streams this long; a client that comes back with its
    /// session id resumes without others seeing it leave (0: leave at once).
    public var reconnectGraceSeconds: Double = 10
    /// Where Prometheus scrapes `GET /metrics` (nil: no metrics listener).
    public var metricsHost: String?
    public var metricsPort = 0
    /// Where the room page and its WebSocket (`GET /ws`) listen (nil: no web listener).
    public var webHost: String?
    public var webPort = 0
    /// Origins (besides the page's own) whose pages may open the WebSocket; "*" allows any.
    public var webOrigins: [String] = []
    /// Where the UDP media port (WebRTC's wire: ICE-lite, DTLS-SRTP, every session on one port) listens
    /// (nil: no UDP media).
    public var udpHost: String?
    public var udpPort = 0
    /// The IP clients are told to send media to (the ICE candidate, with the bound port); needed when
    /// `udpHost` is the wildcard (0.0.0.0 or ::). Nil: the bound address.
    public var udpAdvertise: String?
    /// PEM certificate chain and private key: the web listener speaks https and wss.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?

    public init() {}

    public func app(_ id: UInt32) -> AppConfiguration? { apps.first { $0.appID == id } }
}

/// One application: its id, credentials and limits.
public struct AppConfiguration: Sendable, Equatable {
    public var appID: UInt32
    /// Logins with an AppSign prove it with a signature over the server's nonce.
    public var appSign: AppSign?
    /// Tokens (token04) are opened with this 32-character secret.
    public var serverSecret: String?
    /// Logins need no token or signature (the dev app).
    public var allowsAnonymous: Bool
    public var maxUsersPerRoom: Int
    public var maxStreamsPerRoom: Int
    /// Broadcast messages a room accepts per second (a burst of this many, refilled continuously).
    public var messagesPerSecond: Double
    /// The scenario publishers in this app's rooms default to (nil: none), and per room.
    public var scenario: Scenario?
    public var roomScenarios: [String: Scenario] = [:]

    /// What a login to `roomID` is told its publishers default to.
    public func scenario(forRoom roomID: String) -> Scenario? { roomScenarios[roomID] ?? scenario }

    public init(appID: UInt32, appSign: AppSign? = nil, serverSecret: String? = nil, allowsAnonymous: Bool = false,
                maxUsersPerRoom: Int = 10_000, maxStreamsPerRoom: Int = 1_000, messagesPerSecond: Double = 10) {
        self.appID = appID
        self.appSign = appSign
        self.serverSecret = serverSecret
        self.allowsAnonymous = allowsAnonymous
        self.maxUsersPerRoom = maxUsersPerRoom
        self.maxStreamsPerRoom = maxStreamsPerRoom
        self.messagesPerSecond = messagesPerSecond
    }

    public static let development = AppConfiguration(appID: 1, allowsAnonymous: true)

    /// How logins to this app authenticate, for the startup line.
    public var authSummary: String {
        var ways: [String] = []
        if serverSecret != nil { ways.append("token") }
        if appSign != nil { ways.append("app sign") }
        if allowsAnonymous { ways.append("anonymous") }
        return ways.joined(separator: ", ")
    }
}
