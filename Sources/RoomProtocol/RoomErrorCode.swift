/// Every error the room protocol can report: a stable number and a snake_case name.
/// The list is documented in docs/protocol.md; numbers never change meaning.
public enum RoomErrorCode: UInt16, Sendable, CaseIterable, Codable {
    case badRequest = 1001
    case unsupportedVersion = 1002
    case frameTooLarge = 1003
    case notLoggedIn = 1004
    case alreadyLoggedIn = 1005
    case invalidID = 1006
    case internalError = 1007
    case valueTooLong = 1008
    case tokenInvalid = 1101
    case tokenExpired = 1102
    case noPrivilege = 1103
    case appNotFound = 1104
    case duplicateStream = 1201
    case streamNotFound = 1202
    case roomFull = 1203
    case notPublishing = 1204
    case rateLimited = 1205
    case userNotFound = 1206
    case kickedOut = 1301
    case slowConsumer = 1302
    case serverShutdown = 1303
    case sessionExpired = 1304

    public var name: String {
        switch self {
        case .badRequest: return "bad_request"
        case .unsupportedVersion: return "unsupported_version"
        case .frameTooLarge: return "frame_too_large"
        case .notLoggedIn: return "not_logged_in"
        case .alreadyLoggedIn: return "already_logged_in"
        case .invalidID: return "invalid_id"
        case .internalError: return "internal_error"
        case .valueTooLong: return "value_too_long"
        case .tokenInvalid: return "token_invalid"
        case .tokenExpired: return "token_expired"
        case .noPrivilege: return "no_privilege"
        case .appNotFound: return "app_not_found"
        case .duplicateStream: return "duplicate_stream"
        case .streamNotFound: return "stream_not_found"
        case .roomFull: return "room_full"
        case .notPublishing: return "not_publishing"
        case .rateLimited: return "rate_limited"
        case .userNotFound: return "user_not_found"
        case .kickedOut: return "kicked_out"
        case .slowConsumer: return "slow_consumer"
        case .serverShutdown: return "server_shutdown"
        case .sessionExpired: return "session_expired"
        }
    }

    /// One sentence for docs/protocol.md and `--help` texts.
    public var meaning: String {
        switch self {
        case .badRequest: return "the message could not be understood or is not allowed in this state"
        case .unsupportedVersion: return "the peers share no protocol version"
        case .frameTooLarge: return "a frame exceeded the announced maximum length"
        case .notLoggedIn: return "the request needs a login first"
        case .alreadyLoggedIn: return "this connection is already logged in"
        case .invalidID: return "a room, user or stream id is empty, too long or has characters outside A-Z a-z 0-9 - _ ."
        case .internalError: return "the server failed; the request may be retried"
        case .valueTooLong: return "an extra info key or value, message or command is longer than its limit"
        case .tokenInvalid: return "the token or signature is malformed or does not match the app, user or secret"
        case .tokenExpired: return "the token has expired"
        case .noPrivilege: return "the token does not allow this room, action or stream id"
        case .appNotFound: return "the server has no app with this id"
        case .duplicateStream: return "another user already publishes this stream id"
        case .streamNotFound: return "the stream is not published in this room"
        case .roomFull: return "the room reached its user or stream limit"
        case .notPublishing: return "media or a request named a stream this session does not publish"
        case .rateLimited: return "too many messages in a short time"
        case .userNotFound: return "none of the users a command was sent to is in the room"
        case .kickedOut: return "another login with the same user id took over"
        case .slowConsumer: return "the connection could not keep up with its media and was closed"
        case .serverShutdown: return "the server is shutting down"
        case .sessionExpired: return "the session to resume no longer exists"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}
