/// The payloads of control messages. Requests carry `id` and get exactly one `result` or `error` back.

public struct LoginRequest: Codable, Sendable, Equatable {
    public var id: UInt32
    public var appID: UInt32
    public var roomID: String
    public var user: UserInfo
    /// Whether this login wants room_user_update events (the SDK's "isUserStatusNotify").
    public var userStatus: Bool
    public var token: String?
    /// HMAC-SHA256 of the server's hello nonce with the AppSign, hex (AppSign logins).
    public var signature: String?
    /// Set when resuming a session after a reconnect.
    public var sessionID: String?
    /// Whether this login wants room_sound_level_update (the SDK's remote sound levels); absent: no.
    public var soundLevels: Bool?

    public init(id: UInt32, appID: UInt32, roomID: String, user: UserInfo, userStatus: Bool,
                token: String? = nil, signature: String? = nil, sessionID: String? = nil, soundLevels: Bool? = nil) {
        self.id = id
        self.appID = appID
        self.roomID = roomID
        self.user = user
        self.userStatus = userStatus
        self.token = token
        self.signature = signature
        self.sessionID = sessionID
        self.soundLevels = soundLevels
    }

    enum CodingKeys: String, CodingKey {
        case id, user, token, signature
        case appID = "app_id"
        case roomID = "room_id"
        case userStatus = "user_status"
        case sessionID = "session_id"
        case soundLevels = "sound_levels"
    }
}

/// A request with nothing but its id (logout).
public struct PlainRequest: Codable, Sendable, Equatable {
    public var id: UInt32
    public init(id: UInt32) { self.id = id }
}

public struct PublishRequest: Codable, Sendable, Equatable {
    public var id: UInt32
    public var streamID: String
    public var tracks: [TrackInfo]
    public var extraInfo: String?
    /// The SDP offer (text) for media over UDP (docs/protocol.md, "Media over UDP"); absent: the media
    /// frames travel on this connection.
    public var sdp: String?
    /// Tracks muted from the start (a republish after a reconnect of a muted stream).
    public var muted: [TrackKind]?

    public init(id: UInt32, streamID: String, tracks: [TrackInfo], extraInfo: String? = nil, sdp: String? = nil,
                muted: [TrackKind]? = nil) {
        self.id = id
        self.streamID = streamID
        self.tracks = tracks
        self.extraInfo = extraInfo
        self.sdp = sdp
        self.muted = muted
    }

    enum CodingKeys: String, CodingKey {
        case id, tracks, sdp, muted
        case streamID = "stream_id"
        case extraInfo = "extra_info"
    }
}

/// play: the stream to play, and how its media comes.
public struct PlayRequest: Codable, Sendable, Equatable {
    /// Optional on the wire, as it always was (a play without one is answered with id 0).
    public var id: UInt32?
    public var streamID: String
    /// The SDP offer (text) for media over UDP (docs/protocol.md, "Media over UDP"); absent: the media
    /// frames travel on this connection.
    public var sdp: String?
    /// Of a stream published in layers (`TrackInfo.layers`): which one to get; absent: the big one.
    public var layer: VideoLayerChoice?

    public init(id: UInt32?, streamID: String, sdp: String? = nil, layer: VideoLayerChoice? = nil) {
        self.id = id
        self.streamID = streamID
        self.sdp = sdp
        self.layer = layer
    }

    enum CodingKeys: String, CodingKey {
        case id, sdp, layer
        case streamID = "stream_id"
    }
}

/// set_play_layer: switches a play of a layered stream to its big or small layer, at the next keyframe
/// (the layers' keyframes come at the same times): the player gets room_stream_tracks_update with the
/// layer's description just before that keyframe.
public struct SetPlayLayer: Codable, Sendable, Equatable {
    public var id: UInt32
    public var streamID: String
    public var layer: VideoLayerChoice

    public init(id: UInt32, streamID: String, layer: VideoLayerChoice) {
        self.id = id
        self.streamID = streamID
        self.layer = layer
    }

    enum CodingKeys: String, CodingKey {
        case id, layer
        case streamID = "stream_id"
    }
}

/// A request or notice that names one stream (stop_publish, stop_play, request_keyframe, keyframe_request).
public struct StreamRequest: Codable, Sendable, Equatable {
    public var id: UInt32?
    public var streamID: String

    public init(id: UInt32?, streamID: String) {
        self.id = id
        self.streamID = streamID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case streamID = "stream_id"
    }
}

public struct Ping: Codable, Sendable, Equatable {
    public var id: UInt32
    /// Sender's clock (µs) echoed back in the pong, for the round-trip time.
    public var time: UInt64

    public init(id: UInt32, time: UInt64) {
        self.id = id
        self.time = time
    }
}

/// The success answer to a request. Fields beyond `id` are present when the request has them.
public struct ResultMessage: Codable, Sendable, Equatable {
    public var id: UInt32
    /// login: the session id to resume with after a reconnect.
    public var sessionID: String?
    /// login: the members already in the room (only when the login asked for user status).
    public var users: [UserInfo]?
    /// login: the streams already live in the room.
    public var streams: [StreamInfo]?
    /// publish: the handle media frames of this stream carry.
    public var streamHandle: UInt32?
    /// login: the room's extra info.
    public var roomExtraInfo: [RoomExtraInfo]?
    /// login, renew_token: when the session's token expires (unix seconds).
    public var tokenExpire: Int64?
    /// send_broadcast_message: the message's id in the room.
    public var messageID: UInt64?
    /// login: true when the login resumed the session named by `session_id` (within the reconnect grace).
    public var resumed: Bool?
    /// publish, play with an `sdp` offer: the server's SDP answer (text).
    public var sdp: String?
    /// login: the scenario the server's config gives the room (publishers default to it); a name this
    /// client does not know is left alone.
    public var scenario: String?

    public init(id: UInt32, sessionID: String? = nil, users: [UserInfo]? = nil, streams: [StreamInfo]? = nil,
                streamHandle: UInt32? = nil, roomExtraInfo: [RoomExtraInfo]? = nil, tokenExpire: Int64? = nil,
                messageID: UInt64? = nil, resumed: Bool? = nil, sdp: String? = nil, scenario: String? = nil) {
        self.id = id
        self.sessionID = sessionID
        self.users = users
        self.streams = streams
        self.streamHandle = streamHandle
        self.roomExtraInfo = roomExtraInfo
        self.tokenExpire = tokenExpire
        self.messageID = messageID
        self.resumed = resumed
        self.sdp = sdp
        self.scenario = scenario
    }

    enum CodingKeys: String, CodingKey {
        case id, users, streams
        case sessionID = "session_id"
        case streamHandle = "stream_handle"
        case roomExtraInfo = "room_extra_info"
        case tokenExpire = "token_expire"
        case messageID = "message_id"
        case resumed, sdp, scenario
    }
}

/// A failure: the answer to request `id`, or unsolicited when `id` is nil.
public struct ErrorMessage: Codable, Sendable, Equatable, Error {
    public var id: UInt32?
    public var code: UInt16
    public var name: String
    public var message: String

    public init(id: UInt32?, code: RoomErrorCode, message: String) {
        self.id = id
        self.code = code.rawValue
        self.name = code.name
        self.message = message
    }

    public var errorCode: RoomErrorCode? { RoomErrorCode(rawValue: code) }
}
