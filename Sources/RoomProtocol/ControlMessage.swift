import Foundation
import NIOCore

/// Every control message, discriminated on the wire by its `"type"` field.
public enum ControlMessage: Sendable, Equatable {
    // client → server requests
    case login(LoginRequest)
    case logout(PlainRequest)
    case publish(PublishRequest)
    case stopPublish(StreamRequest)
    case play(PlayRequest)
    case stopPlay(StreamRequest)
    case requestKeyframe(StreamRequest)
    case ping(Ping)
    case setRoomExtraInfo(SetRoomExtraInfo)
    case setStreamExtraInfo(SetStreamExtraInfo)
    case setStreamTracks(SetStreamTracks)
    case setStreamMuted(SetStreamMuted)
    case setPlayLayer(SetPlayLayer)
    case sendBroadcastMessage(SendBroadcastMessage)
    case sendCustomCommand(SendCustomCommand)
    case renewToken(RenewToken)
    // server → client answers
    case pong(Ping)
    case result(ResultMessage)
    case error(ErrorMessage)
    // server → client events
    case roomUserUpdate(RoomUserUpdate)
    case roomStreamUpdate(RoomStreamUpdate)
    case sessionEnded(SessionEnded)
    case playStarted(PlayStarted)
    case playStopped(PlayStopped)
    case keyframeRequest(StreamRequest)
    case roomExtraInfoUpdate(RoomExtraInfoUpdate)
    case roomStreamExtraInfoUpdate(RoomStreamExtraInfoUpdate)
    case roomStreamTracksUpdate(RoomStreamTracksUpdate)
    case roomStreamStateUpdate(RoomStreamStateUpdate)
    case roomSoundLevelUpdate(RoomSoundLevelUpdate)
    case playFramesDropped(PlayFramesDropped)
    case broadcastMessage(BroadcastMessage)
    case customCommand(CustomCommand)
    case tokenWillExpire(TokenWillExpire)

    /// The wire name of each message type.
    public var typeName: String {
        switch self {
        case .login: return "login"
        case .logout: return "logout"
        case .publish: return "publish"
        case .stopPublish: return "stop_publish"
        case .play: return "play"
        case .stopPlay: return "stop_play"
        case .requestKeyframe: return "request_keyframe"
        case .ping: return "ping"
        case .pong: return "pong"
        case .result: return "result"
        case .error: return "error"
        case .roomUserUpdate: return "room_user_update"
        case .roomStreamUpdate: return "room_stream_update"
        case .sessionEnded: return "session_ended"
        case .playStarted: return "play_started"
        case .playStopped: return "play_stopped"
        case .keyframeRequest: return "keyframe_request"
        case .setRoomExtraInfo: return "set_room_extra_info"
        case .setStreamExtraInfo: return "set_stream_extra_info"
        case .setStreamTracks: return "set_stream_tracks"
        case .setStreamMuted: return "set_stream_muted"
        case .setPlayLayer: return "set_play_layer"
        case .sendBroadcastMessage: return "send_broadcast_message"
        case .sendCustomCommand: return "send_custom_command"
        case .renewToken: return "renew_token"
        case .roomExtraInfoUpdate: return "room_extra_info_update"
        case .roomStreamExtraInfoUpdate: return "room_stream_extra_info_update"
        case .roomStreamTracksUpdate: return "room_stream_tracks_update"
        case .roomStreamStateUpdate: return "room_stream_state_update"
        case .roomSoundLevelUpdate: return "room_sound_level_update"
        case .playFramesDropped: return "play_frames_dropped"
        case .broadcastMessage: return "broadcast_message"
        case .customCommand: return "custom_command"
        case .tokenWillExpire: return "token_will_expire"
        }
    }

    public static let allTypeNames = [
        "login", "logout", "publish", "stop_publish", "play", "stop_play", "request_keyframe", "ping", "pong",
        "result", "error", "room_user_update", "room_stream_update", "session_ended", "play_started",
        "play_stopped", "keyframe_request", "set_room_extra_info", "set_stream_extra_info", "send_broadcast_message",
        "send_custom_command", "renew_token", "room_extra_info_update", "room_stream_extra_info_update",
        "broadcast_message", "custom_command", "token_will_expire", "set_stream_tracks", "room_stream_tracks_update",
        "play_frames_dropped", "set_stream_muted", "room_stream_state_update", "room_sound_level_update", "set_play_layer",
    ]

    /// Encodes the JSON object (payload fields plus `"type"`, keys sorted so bytes are stable).
    public func encodeJSON() -> [UInt8] {
        var object: [UInt8]
        switch self {
        case .login(let m): object = ControlCoding.encodeJSON(m)
        case .logout(let m): object = ControlCoding.encodeJSON(m)
        case .publish(let m): object = ControlCoding.encodeJSON(m)
        case .play(let m): object = ControlCoding.encodeJSON(m)
        case .stopPublish(let m), .stopPlay(let m), .requestKeyframe(let m), .keyframeRequest(let m):
            object = ControlCoding.encodeJSON(m)
        case .ping(let m), .pong(let m): object = ControlCoding.encodeJSON(m)
        case .result(let m): object = ControlCoding.encodeJSON(m)
        case .error(let m): object = ControlCoding.encodeJSON(m)
        case .roomUserUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .roomStreamUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .sessionEnded(let m): object = ControlCoding.encodeJSON(m)
        case .playStarted(let m): object = ControlCoding.encodeJSON(m)
        case .playStopped(let m): object = ControlCoding.encodeJSON(m)
        case .setRoomExtraInfo(let m): object = ControlCoding.encodeJSON(m)
        case .setStreamExtraInfo(let m): object = ControlCoding.encodeJSON(m)
        case .setStreamTracks(let m): object = ControlCoding.encodeJSON(m)
        case .setStreamMuted(let m): object = ControlCoding.encodeJSON(m)
        case .setPlayLayer(let m): object = ControlCoding.encodeJSON(m)
        case .sendBroadcastMessage(let m): object = ControlCoding.encodeJSON(m)
        case .sendCustomCommand(let m): object = ControlCoding.encodeJSON(m)
        case .renewToken(let m): object = ControlCoding.encodeJSON(m)
        case .roomExtraInfoUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .roomStreamExtraInfoUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .roomStreamTracksUpdate(let m), .roomStreamStateUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .playFramesDropped(let m): object = ControlCoding.encodeJSON(m)
        case .roomSoundLevelUpdate(let m): object = ControlCoding.encodeJSON(m)
        case .broadcastMessage(let m): object = ControlCoding.encodeJSON(m)
        case .customCommand(let m): object = ControlCoding.encodeJSON(m)
        case .tokenWillExpire(let m): object = ControlCoding.encodeJSON(m)
        }
        return ControlCoding.prependType(typeName, to: object)
    }

    /// Writes the message as one control frame.
    public func write(to buffer: inout ByteBuffer) {
        let json = encodeJSON()
        buffer.writeFrame(.control) { $0.writeBytes(json) }
    }

    /// A ready-to-send frame.
    public func frame(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        write(to: &buffer)
        return buffer
    }

    /// Decodes a control frame's payload. Unknown fields are ignored; an unknown type throws
    /// `unknownMessageType` with the request id when there is one, so the peer can be answered.
    public static func decode(payload: ByteBuffer) throws -> ControlMessage {
        let data = Data(payload.readableBytesView)
        // Every encoder of this protocol (ours, the room page's JSON.stringify) writes "type" first: read it
        // from the bytes and parse the JSON once, for the body. Anything else is parsed for its header.
        let typeName: String
        if let leading = leadingType(payload.readableBytesView) {
            typeName = leading
        } else {
            do {
                typeName = try ControlCoding.decoder.decode(Header.self, from: data).type
            } catch {
                throw RoomProtocolError.malformedControl("not a JSON object with a string \"type\"")
            }
        }
        func body<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try ControlCoding.decoder.decode(T.self, from: data)
            } catch let DecodingError.keyNotFound(key, _) {
                throw RoomProtocolError.malformedControl("\(typeName): missing field \"\(key.stringValue)\"")
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                throw RoomProtocolError.malformedControl("\(typeName): field \"\(path)\" has the wrong type")
            } catch {
                throw RoomProtocolError.malformedControl("\(typeName): \(error)")
            }
        }
        switch typeName {
        case "login": return .login(try body(LoginRequest.self))
        case "logout": return .logout(try body(PlainRequest.self))
        case "publish": return .publish(try body(PublishRequest.self))
        case "stop_publish": return .stopPublish(try body(StreamRequest.self))
        case "play": return .play(try body(PlayRequest.self))
        case "stop_play": return .stopPlay(try body(StreamRequest.self))
        case "request_keyframe": return .requestKeyframe(try body(StreamRequest.self))
        case "ping": return .ping(try body(Ping.self))
        case "pong": return .pong(try body(Ping.self))
        case "result": return .result(try body(ResultMessage.self))
        case "error": return .error(try body(ErrorMessage.self))
        case "room_user_update": return .roomUserUpdate(try body(RoomUserUpdate.self))
        case "room_stream_update": return .roomStreamUpdate(try body(RoomStreamUpdate.self))
        case "session_ended": return .sessionEnded(try body(SessionEnded.self))
        case "play_started": return .playStarted(try body(PlayStarted.self))
        case "play_stopped": return .playStopped(try body(PlayStopped.self))
        case "keyframe_request": return .keyframeRequest(try body(StreamRequest.self))
        case "set_room_extra_info": return .setRoomExtraInfo(try body(SetRoomExtraInfo.self))
        case "set_stream_extra_info": return .setStreamExtraInfo(try body(SetStreamExtraInfo.self))
        case "set_stream_tracks": return .setStreamTracks(try body(SetStreamTracks.self))
        case "set_stream_muted": return .setStreamMuted(try body(SetStreamMuted.self))
        case "set_play_layer": return .setPlayLayer(try body(SetPlayLayer.self))
        case "send_broadcast_message": return .sendBroadcastMessage(try body(SendBroadcastMessage.self))
        case "send_custom_command": return .sendCustomCommand(try body(SendCustomCommand.self))
        case "renew_token": return .renewToken(try body(RenewToken.self))
        case "room_extra_info_update": return .roomExtraInfoUpdate(try body(RoomExtraInfoUpdate.self))
        case "room_stream_extra_info_update": return .roomStreamExtraInfoUpdate(try body(RoomStreamExtraInfoUpdate.self))
        case "room_stream_tracks_update": return .roomStreamTracksUpdate(try body(RoomStreamTracksUpdate.self))
        case "room_stream_state_update": return .roomStreamStateUpdate(try body(RoomStreamStateUpdate.self))
        case "room_sound_level_update": return .roomSoundLevelUpdate(try body(RoomSoundLevelUpdate.self))
        case "play_frames_dropped": return .playFramesDropped(try body(PlayFramesDropped.self))
        case "broadcast_message": return .broadcastMessage(try body(BroadcastMessage.self))
        case "custom_command": return .customCommand(try body(CustomCommand.self))
        case "token_will_expire": return .tokenWillExpire(try body(TokenWillExpire.self))
        default:
            let id = (try? ControlCoding.decoder.decode(Header.self, from: data))?.id
            throw RoomProtocolError.unknownMessageType(typeName, requestID: id)
        }
    }

    private struct Header: Decodable {
        var type: String
        var id: UInt32?
    }

    /// NAME when the bytes start with `{"type":"NAME"` and NAME has no escape; nil otherwise.
    static func leadingType(_ bytes: ByteBufferView) -> String? {
        let prefix = #"{"type":""#.utf8
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
        let nameStart = bytes.index(bytes.startIndex, offsetBy: prefix.count)
        guard let end = bytes[nameStart...].prefix(64).firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        let name = bytes[nameStart..<end]
        guard name.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\\") }) else { return nil }
        return String(decoding: name, as: UTF8.self)
    }
}

/// The one JSON configuration of the protocol.
public enum ControlCoding {
    public static var decoder: JSONDecoder { JSONDecoder() }

    public static func encodeJSON<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own Codable structs of strings and numbers cannot fail; an empty object is the fallback.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// Inserts `"type":"NAME"` as the first key of an encoded JSON object.
    static func prependType(_ name: String, to object: [UInt8]) -> [UInt8] {
        var out = Array("{\"type\":\"\(name)\"".utf8)
        if object.count > 2 {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: object.dropFirst())
        } else {
            out.append(UInt8(ascii: "}"))
        }
        return out
    }
}
