import RoomProtocol

/// Everything `rtcbox serve` can be told. Defaults give the embedded dev server.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = RoomProtocolConstants.defaultPort
    /// Event loop threads (0: one per core).
    public var threads = 0
    public var maximumFrameLength = RoomProtocolConstants.defaultMaximumFrameLength
    /// Apps this server accepts. Without a config file: the dev app (id 1, no authentication).
    public var apps: [AppConfiguration] = [.development]
    /// Outbound bytes a subscriber may have pending before its video is dropped to the next keyframe.
    public var subscriberHighWaterMark = 1 << 20
    public var subscriberLowWaterMark = 1 << 18
    /// A subscriber that stays unable to take media this long is disconnected with slow_consumer.
    public var slowConsumerTimeoutSeconds: Double = 10
    /// The largest GOP (bytes) the server keeps per stream for joining players.
    public var gopCacheLimitBytes = 8 << 20

    public init() {}
}

/// One application: its id, and (from issue 4 on) its credentials and limits.
public struct AppConfiguration: Sendable, Equatable {
    public var appID: UInt32
    /// Logins need no token or signature (the dev app).
    public var allowsAnonymous: Bool
    public var maxUsersPerRoom: Int
    public var maxStreamsPerRoom: Int

    public init(appID: UInt32, allowsAnonymous: Bool, maxUsersPerRoom: Int = 10_000, maxStreamsPerRoom: Int = 1_000) {
        self.appID = appID
        self.allowsAnonymous = allowsAnonymous
        self.maxUsersPerRoom = maxUsersPerRoom
        self.maxStreamsPerRoom = maxStreamsPerRoom
    }

    public static let development = AppConfiguration(appID: 1, allowsAnonymous: true)
}
