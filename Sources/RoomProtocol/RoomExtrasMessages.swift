/// Messages beyond streams: room and stream extra info, broadcast messages, custom commands, token renewal.

/// Limits on what members can put into a room (bytes of UTF-8).
public enum RoomLimits {
    public static let extraInfoKeyLength = 128
    public static let extraInfoValueLength = 4096
    /// Distinct room extra info keys a room keeps.
    public static let extraInfoKeys = 64
    public static let streamExtraInfoLength = 1024
    public static let messageLength = 1024
    public static let commandLength = 1024
    /// Users one custom command can be sent to.
    public static let commandRecipients = 100
}

/// One key of a room's extra info, with who set it last and when.
public struct RoomExtraInfo: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var updateUser: UserInfo
    /// Unix time in milliseconds.
    public var updateTime: UInt64

    public init(key: String, value: String, updateUser: UserInfo, updateTime: UInt64) {
        self.key = key
        self.value = value
        self.updateUser = updateUser
        self.updateTime = updateTime
    }

    enum CodingKeys: String, CodingKey {
        case key, value
        case updateUser = "update_user"
        case updateTime = "update_time"
    }
}

/// set_room_extra_info: sets one key of the room's extra info (an empty value keeps the key, empty).
public struct SetRoomExtraInfo: Codable, Sendable, Equatable {
    public var id: UInt32
    public var key: String
    public var value: String

    public init(id: UInt32, key: String, value: String) {
        self.id = id
        self.key = key
        self.value = value
    }
}

/// set_stream_extra_info: changes the extra info of a stream this session publishes.
public struct SetStreamExtraInfo: Codable, Sendable, Equatable {
    public var id: UInt32
    public var streamID: String
    public var extraInfo: String

    public init(id: UInt32, streamID: String, extraInfo: String) {
        self.id = id
        self.streamID = streamID
        self.extraInfo = extraInfo
    }

    enum CodingKeys: String, CodingKey {
        case id
        case streamID = "stream_id"
        case extraInfo = "extra_info"
    }
}

/// send_broadcast_message: a text to every other member of the room (rate-limited per room).
public struct SendBroadcastMessage: Codable, Sendable, Equatable {
    public var id: UInt32
    public var message: String

    public init(id: UInt32, message: String) {
        self.id = id
        self.message = message
    }
}

/// send_custom_command: a text to the listed members of the room.
public struct SendCustomCommand: Codable, Sendable, Equatable {
    public var id: UInt32
    public var toUserIDs: [String]
    public var command: String

    public init(id: UInt32, toUserIDs: [String], command: String) {
        self.id = id
        self.toUserIDs = toUserIDs
        self.command = command
    }

    enum CodingKeys: String, CodingKey {
        case id, command
        case toUserIDs = "to_user_ids"
    }
}

/// renew_token: replaces the session's token before it expires, without logging in again.
public struct RenewToken: Codable, Sendable, Equatable {
    public var id: UInt32
    public var token: String

    public init(id: UInt32, token: String) {
        self.id = id
        self.token = token
    }
}

// MARK: events

/// room_extra_info_update: keys of the room's extra info that changed.
public struct RoomExtraInfoUpdate: Codable, Sendable, Equatable {
    public var roomID: String
    public var extraInfo: [RoomExtraInfo]

    public init(roomID: String, extraInfo: [RoomExtraInfo]) {
        self.roomID = roomID
        self.extraInfo = extraInfo
    }

    enum CodingKeys: String, CodingKey {
        case roomID = "room_id"
        case extraInfo = "extra_info"
    }
}

/// room_stream_extra_info_update: streams whose extra info changed (the full stream info, new extra info).
public struct RoomStreamExtraInfoUpdate: Codable, Sendable, Equatable {
    public var roomID: String
    public var streams: [StreamInfo]

    public init(roomID: String, streams: [StreamInfo]) {
        self.roomID = roomID
        self.streams = streams
    }

    enum CodingKeys: String, CodingKey {
        case streams
        case roomID = "room_id"
    }
}

/// broadcast_message: a member's text to the room.
public struct BroadcastMessage: Codable, Sendable, Equatable {
    public var roomID: String
    public var messageID: UInt64
    public var fromUser: UserInfo
    public var message: String
    /// Unix time in milliseconds, when the server accepted it.
    public var sendTime: UInt64

    public init(roomID: String, messageID: UInt64, fromUser: UserInfo, message: String, sendTime: UInt64) {
        self.roomID = roomID
        self.messageID = messageID
        self.fromUser = fromUser
        self.message = message
        self.sendTime = sendTime
    }

    enum CodingKeys: String, CodingKey {
        case message
        case roomID = "room_id"
        case messageID = "message_id"
        case fromUser = "from_user"
        case sendTime = "send_time"
    }
}

/// custom_command: a member's text to this user.
public struct CustomCommand: Codable, Sendable, Equatable {
    public var roomID: String
    public var fromUser: UserInfo
    public var command: String

    public init(roomID: String, fromUser: UserInfo, command: String) {
        self.roomID = roomID
        self.fromUser = fromUser
        self.command = command
    }

    enum CodingKeys: String, CodingKey {
        case command
        case roomID = "room_id"
        case fromUser = "from_user"
    }
}

/// token_will_expire: the session's token expires in `remainingSeconds`; renew it with renew_token.
public struct TokenWillExpire: Codable, Sendable, Equatable {
    public var roomID: String
    public var remainingSeconds: Int

    public init(roomID: String, remainingSeconds: Int) {
        self.roomID = roomID
        self.remainingSeconds = remainingSeconds
    }

    enum CodingKeys: String, CodingKey {
        case roomID = "room_id"
        case remainingSeconds = "remaining_seconds"
    }
}
