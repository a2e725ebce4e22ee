import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol

/// A stream being published: who publishes it, how it is encoded, and its fan-out.
final class LiveStream: @unchecked Sendable {
    let appID: UInt32
    let roomID: String
    let handle: UInt32
    private var currentPublisher: ServerSession
    /// Its publisher disconnected and the session may resume: the stream stays live, waiting for the
    /// resumed session to publish it again (changed only under the registry lock).
    var awaitingRepublish = false
    /// Changed only under the registry lock.
    var info: StreamInfo
    /// The last sound level its audio frames carried, -dBov (under the registry lock).
    var soundLevel: UInt8?
    let fanout: StreamFanout
    /// The publisher's media over UDP, when its publish negotiated it (changed only under the registry lock).
    var udpIngest: UDPMediaListener.Session? {
        didSet { if oldValue !== udpIngest { oldValue?.close() } }
    }

    init(appID: UInt32, roomID: String, handle: UInt32, publisher: ServerSession, info: StreamInfo, fanout: StreamFanout) {
        self.appID = appID
        self.roomID = roomID
        self.handle = handle
        self.currentPublisher = publisher
        self.info = info
        self.fanout = fanout
    }

    var streamID: String { info.streamID }

    private let keyframeLock = NIOLock()
    private var lastKeyframeRequest: NIODeadline?

    /// The session publishing it; a resumed session takes it over.
    var publisher: ServerSession {
        get { keyframeLock.withLock { currentPublisher } }
        set { keyframeLock.withLock { currentPublisher = newValue } }
    }
    /// Keyframe requests reach the publisher at most this often, however many players ask.
    static let keyframeRequestInterval = TimeAmount.seconds(1)

    /// Asks the publisher for an IDR (a player joined, asked, or was dropped back to a keyframe); rate-limited.
    /// Returns whether the request went out.
    @discardableResult
    func requestKeyframe(now: NIODeadline = .now()) -> Bool {
        let due = keyframeLock.withLock { () -> Bool in
            if let last = lastKeyframeRequest, now - last < Self.keyframeRequestInterval { return false }
            lastKeyframeRequest = now
            return true
        }
        if due { publisher.send(.keyframeRequest(StreamRequest(id: nil, streamID: streamID))) }
        return due
    }
}

/// A room exists while someone is in it.
final class Room {
    let appID: UInt32
    let roomID: String
    /// Members by user id.
    var members: [String: ServerSession] = [:]
    /// Live streams by stream id, in publish order for stable listings.
    var streams: [String: LiveStream] = [:]
    var streamOrder: [String] = []
    /// Room extra info by key, in the order keys were first set.
    var extraInfo: [String: RoomExtraInfo] = [:]
    var extraInfoOrder: [String] = []
    var messageBucket: RateBucket
    var nextMessageID: UInt64 = 1
    /// room_user_update events not sent yet, and when they last were (RoomRegistry+UserEvents.swift).
    var pendingUserEvents: [RoomRegistry.PendingUserEvent] = []
    var userEventsFlushScheduled = false
    var lastUserEventsFlush = NIODeadline.uptimeNanoseconds(0)

    init(appID: UInt32, roomID: String, messagesPerSecond: Double) {
        self.appID = appID
        self.roomID = roomID
        self.messageBucket = RateBucket(perSecond: messagesPerSecond)
    }

    var liveStreams: [LiveStream] { streamOrder.compactMap { streams[$0] } }
    var extraInfoList: [RoomExtraInfo] { extraInfoOrder.compactMap { extraInfo[$0] } }
}

/// A token bucket: a burst of `perSecond` (at least 1), refilled continuously.
struct RateBucket {
    let perSecond: Double
    let capacity: Double
    private var tokens: Double
    private var last: NIODeadline

    init(perSecond: Double, now: NIODeadline = .now()) {
        self.perSecond = perSecond
        self.capacity = max(1, perSecond)
        self.tokens = capacity
        self.last = now
    }

    /// Takes one token if there is one.
    mutating func take(now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - last).nanoseconds) / 1e9
        last = now
        tokens = min(capacity, tokens + elapsed * perSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

struct AppScoped: Hashable {
    var appID: UInt32
    var id: String
}
