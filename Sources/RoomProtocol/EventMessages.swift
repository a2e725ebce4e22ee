/// Unsolicited messages from the server.

public struct RoomUserUpdate: Codable, Sendable, Equatable {
    public var roomID: String
    public var updateType: UpdateType
    public var users: [UserInfo]

    public init(roomID: String, updateType: UpdateType, users: [UserInfo]) {
        self.roomID = roomID
        self.updateType = updateType
        self.users = users
    }

    enum CodingKeys: String, CodingKey {
        case users
        case roomID = "room_id"
        case updateType = "update_type"
    }
}

public struct RoomStreamUpdate: Codable, Sendable, Equatable {
    public var roomID: String
    public var updateType: UpdateType
    public var streams: [StreamInfo]

    public init(roomID: String, updateType: UpdateType, streams: [StreamInfo]) {
        self.roomID = roomID
        self.updateType = updateType
        self.streams = streams
    }

    enum CodingKeys: String, CodingKey {
        case streams
        case roomID = "room_id"
        case updateType = "update_type"
    }
}

/// The session ended by the server's decision (kicked out by another login, slow consumer, shutdown...).
public struct SessionEnded: Codable, Sendable, Equatable {
    public var code: UInt16
    public var name: String
    public var reason: String

    public init(code: RoomErrorCode, reason: String) {
        self.code = code.rawValue
        self.name = code.name
        self.reason = reason
    }

    public var errorCode: RoomErrorCode? { RoomErrorCode(rawValue: code) }
}

/// A stream this session asked to play is live: media frames with `streamHandle` follow.
public struct PlayStarted: Codable, Sendable, Equatable {
    public var streamID: String
    public var streamHandle: UInt32
    public var stream: StreamInfo

    public init(streamID: String, streamHandle: UInt32, stream: StreamInfo) {
        self.streamID = streamID
        self.streamHandle = streamHandle
        self.stream = stream
    }

    enum CodingKeys: String, CodingKey {
        case stream
        case streamID = "stream_id"
        case streamHandle = "stream_handle"
    }
}

/// A stream this session plays stopped being published. The play request stays: when the stream is
/// published again, a new `play_started` follows.
public struct PlayStopped: Codable, Sendable, Equatable {
    public var streamID: String
    public var reason: String

    public init(streamID: String, reason: String) {
        self.streamID = streamID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case streamID = "stream_id"
    }
}

/// play_frames_dropped: the server dropped frames of this play because the player's downlink could not take
/// them in time (video to the next keyframe). `frames_dropped` counts since the play started (its
/// `stream_handle`); written just before the next frame the player does get, in line with the media.
public struct PlayFramesDropped: Codable, Sendable, Equatable {
    public var streamHandle: UInt32
    public var framesDropped: Int

    public init(streamHandle: UInt32, framesDropped: Int) {
        self.streamHandle = streamHandle
        self.framesDropped = framesDropped
    }

    enum CodingKeys: String, CodingKey {
        case streamHandle = "stream_handle"
        case framesDropped = "frames_dropped"
    }
}
