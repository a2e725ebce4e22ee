import NIOCore
import XCTest

@testable import RoomProtocol

/// Pins the wire form of every control message (docs/protocol.md shows the same objects).
final class ControlMessageGoldenTests: XCTestCase {
    let u = UserInfo(userID: "u1", userName: "U")
    /// The head of an SDP, as publish, play and result carry it.
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    var audioStream: StreamInfo { StreamInfo(streamID: "s1", user: u, tracks: [TrackInfo(kind: .audio, codec: "aac")]) }

    var golden: [(ControlMessage, String)] {
        [
            (.login(LoginRequest(id: 1, appID: 1, roomID: "r1", user: u, userStatus: true)),
             #"{"type":"login","app_id":1,"id":1,"room_id":"r1","user":{"user_id":"u1","user_name":"U"},"user_status":true}"#),
            (.login(LoginRequest(id: 1, appID: 7, roomID: "r1", user: u, userStatus: false, token: "04abc", sessionID: "s")),
             #"{"type":"login","app_id":7,"id":1,"room_id":"r1","session_id":"s","token":"04abc","user":{"user_id":"u1","user_name":"U"},"user_status":false}"#),
            (.logout(PlainRequest(id: 2)), #"{"type":"logout","id":2}"#),
            (.publish(PublishRequest(id: 3, streamID: "s1", tracks: [
                TrackInfo(kind: .video, codec: "h264", width: 1280, height: 720, frameRate: 30),
                TrackInfo(kind: .audio, codec: "aac", sampleRate: 48000, channels: 2, extradata: "EZA="),
            ])),
             #"{"type":"publish","id":3,"stream_id":"s1","tracks":[{"codec":"h264","frame_rate":30,"height":720,"kind":"video","width":1280},{"channels":2,"codec":"aac","extradata":"EZA=","kind":"audio","sample_rate":48000}]}"#),
            (.stopPublish(StreamRequest(id: 4, streamID: "s1")), #"{"type":"stop_publish","id":4,"stream_id":"s1"}"#),
            (.play(PlayRequest(id: 5, streamID: "s1")), #"{"type":"play","id":5,"stream_id":"s1"}"#),
            // Media over UDP: the offer in publish and play, the answer in their result (SDP text, CRLF lines).
            (.publish(PublishRequest(id: 3, streamID: "s1", tracks: [TrackInfo(kind: .video, codec: "h264")], sdp: sdp)),
             #"{"type":"publish","id":3,"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n","stream_id":"s1","tracks":[{"codec":"h264","kind":"video"}]}"#),
            (.play(PlayRequest(id: 5, streamID: "s1", sdp: sdp)),
             #"{"type":"play","id":5,"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n","stream_id":"s1"}"#),
            (.result(ResultMessage(id: 3, streamHandle: 9, sdp: sdp)),
             #"{"type":"result","id":3,"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n","stream_handle":9}"#),
            (.stopPlay(StreamRequest(id: 6, streamID: "s1")), #"{"type":"stop_play","id":6,"stream_id":"s1"}"#),
            (.requestKeyframe(StreamRequest(id: nil, streamID: "s1")), #"{"type":"request_keyframe","stream_id":"s1"}"#),
            (.ping(Ping(id: 7, time: 123)), #"{"type":"ping","id":7,"time":123}"#),
            (.pong(Ping(id: 7, time: 123)), #"{"type":"pong","id":7,"time":123}"#),
            (.result(ResultMessage(id: 1, sessionID: "abc", users: [], streams: [])),
             #"{"type":"result","id":1,"session_id":"abc","streams":[],"users":[]}"#),
            (.result(ResultMessage(id: 3, streamHandle: 9)), #"{"type":"result","id":3,"stream_handle":9}"#),
            (.error(ErrorMessage(id: 3, code: .duplicateStream, message: "m")),
             #"{"type":"error","code":1201,"id":3,"message":"m","name":"duplicate_stream"}"#),
            (.roomUserUpdate(RoomUserUpdate(roomID: "r1", updateType: .add, users: [u])),
             #"{"type":"room_user_update","room_id":"r1","update_type":"add","users":[{"user_id":"u1","user_name":"U"}]}"#),
            (.roomStreamUpdate(RoomStreamUpdate(roomID: "r1", updateType: .delete, streams: [audioStream])),
             #"{"type":"room_stream_update","room_id":"r1","streams":[{"extra_info":"","stream_id":"s1","tracks":[{"codec":"aac","kind":"audio"}],"user":{"user_id":"u1","user_name":"U"}}],"update_type":"delete"}"#),
            (.sessionEnded(SessionEnded(code: .kickedOut, reason: "r")),
             #"{"type":"session_ended","code":1301,"name":"kicked_out","reason":"r"}"#),
            (.playStarted(PlayStarted(streamID: "s1", streamHandle: 9, stream: audioStream)),
             #"{"type":"play_started","stream":{"extra_info":"","stream_id":"s1","tracks":[{"codec":"aac","kind":"audio"}],"user":{"user_id":"u1","user_name":"U"}},"stream_handle":9,"stream_id":"s1"}"#),
            (.playStopped(PlayStopped(streamID: "s1", reason: "publisher stopped")),
             #"{"type":"play_stopped","reason":"publisher stopped","stream_id":"s1"}"#),
            (.keyframeRequest(StreamRequest(id: nil, streamID: "s1")), #"{"type":"keyframe_request","stream_id":"s1"}"#),
            (.login(LoginRequest(id: 1, appID: 7, roomID: "r1", user: u, userStatus: false, signature: "ab12")),
             #"{"type":"login","app_id":7,"id":1,"room_id":"r1","signature":"ab12","user":{"user_id":"u1","user_name":"U"},"user_status":false}"#),
            (.setRoomExtraInfo(SetRoomExtraInfo(id: 8, key: "topic", value: "standup")),
             #"{"type":"set_room_extra_info","id":8,"key":"topic","value":"standup"}"#),
            (.setStreamExtraInfo(SetStreamExtraInfo(id: 9, streamID: "s1", extraInfo: "front")),
             #"{"type":"set_stream_extra_info","extra_info":"front","id":9,"stream_id":"s1"}"#),
            (.sendBroadcastMessage(SendBroadcastMessage(id: 10, message: "hi")), #"{"type":"send_broadcast_message","id":10,"message":"hi"}"#),
            (.sendCustomCommand(SendCustomCommand(id: 11, toUserIDs: ["u2"], command: "mute")),
             #"{"type":"send_custom_command","command":"mute","id":11,"to_user_ids":["u2"]}"#),
            (.renewToken(RenewToken(id: 12, token: "04xyz")), #"{"type":"renew_token","id":12,"token":"04xyz"}"#),
            (.result(ResultMessage(id: 1, sessionID: "abc", streams: [], roomExtraInfo: [RoomExtraInfo(key: "k", value: "v", updateUser: u, updateTime: 5)], tokenExpire: 1800000000)),
             #"{"type":"result","id":1,"room_extra_info":[{"key":"k","update_time":5,"update_user":{"user_id":"u1","user_name":"U"},"value":"v"}],"session_id":"abc","streams":[],"token_expire":1800000000}"#),
            (.result(ResultMessage(id: 10, messageID: 3)), #"{"type":"result","id":10,"message_id":3}"#),
            (.result(ResultMessage(id: 2, sessionID: "abc", streams: [], scenario: "chatroom")),
             #"{"type":"result","id":2,"scenario":"chatroom","session_id":"abc","streams":[]}"#),
            (.roomExtraInfoUpdate(RoomExtraInfoUpdate(roomID: "r1", extraInfo: [RoomExtraInfo(key: "k", value: "v", updateUser: u, updateTime: 5)])),
             #"{"type":"room_extra_info_update","extra_info":[{"key":"k","update_time":5,"update_user":{"user_id":"u1","user_name":"U"},"value":"v"}],"room_id":"r1"}"#),
            (.roomStreamExtraInfoUpdate(RoomStreamExtraInfoUpdate(roomID: "r1", streams: [audioStream])),
             #"{"type":"room_stream_extra_info_update","room_id":"r1","streams":[{"extra_info":"","stream_id":"s1","tracks":[{"codec":"aac","kind":"audio"}],"user":{"user_id":"u1","user_name":"U"}}]}"#),
            (.broadcastMessage(BroadcastMessage(roomID: "r1", messageID: 3, fromUser: u, message: "hi", sendTime: 6)),
             #"{"type":"broadcast_message","from_user":{"user_id":"u1","user_name":"U"},"message":"hi","message_id":3,"room_id":"r1","send_time":6}"#),
            (.customCommand(CustomCommand(roomID: "r1", fromUser: u, command: "mute")),
             #"{"type":"custom_command","command":"mute","from_user":{"user_id":"u1","user_name":"U"},"room_id":"r1"}"#),
            (.tokenWillExpire(TokenWillExpire(roomID: "r1", remainingSeconds: 30)),
             #"{"type":"token_will_expire","remaining_seconds":30,"room_id":"r1"}"#),
            (.setStreamTracks(SetStreamTracks(streamID: "s1", tracks: [TrackInfo(kind: .video, codec: "h264", width: 960, height: 540, frameRate: 30)])),
             #"{"type":"set_stream_tracks","id":0,"stream_id":"s1","tracks":[{"codec":"h264","frame_rate":30,"height":540,"kind":"video","width":960}]}"#),
            (.playFramesDropped(PlayFramesDropped(streamHandle: 9, framesDropped: 41)),
             #"{"type":"play_frames_dropped","frames_dropped":41,"stream_handle":9}"#),
            (.roomStreamTracksUpdate(RoomStreamTracksUpdate(roomID: "r1", streams: [audioStream])),
             #"{"type":"room_stream_tracks_update","room_id":"r1","streams":[{"extra_info":"","stream_id":"s1","tracks":[{"codec":"aac","kind":"audio"}],"user":{"user_id":"u1","user_name":"U"}}]}"#),
            (.login(LoginRequest(id: 1, appID: 1, roomID: "r1", user: u, userStatus: false, soundLevels: true)),
             #"{"type":"login","app_id":1,"id":1,"room_id":"r1","sound_levels":true,"user":{"user_id":"u1","user_name":"U"},"user_status":false}"#),
            (.roomSoundLevelUpdate(RoomSoundLevelUpdate(roomID: "r1", levels: [.init(streamID: "s1", level: 87.5), .init(streamID: "s2", level: 0)])),
             #"{"type":"room_sound_level_update","levels":[{"level":87.5,"stream_id":"s1"},{"level":0,"stream_id":"s2"}],"room_id":"r1"}"#),
            (.setPlayLayer(SetPlayLayer(id: 14, streamID: "s1", layer: .small)),
             #"{"type":"set_play_layer","id":14,"layer":"small","stream_id":"s1"}"#),
            (.play(PlayRequest(id: 15, streamID: "s1", layer: .small)), #"{"type":"play","id":15,"layer":"small","stream_id":"s1"}"#),
            (.publish(PublishRequest(id: 16, streamID: "s1", tracks: [TrackInfo(kind: .video, codec: "h264", width: 640, height: 360,
                                                                               layers: [TrackLayer(width: 640, height: 360, bitRate: 800_000), TrackLayer(width: 320, height: 180, bitRate: 200_000)])])),
             #"{"type":"publish","id":16,"stream_id":"s1","tracks":[{"codec":"h264","height":360,"kind":"video","layers":[{"bit_rate":800000,"height":360,"width":640},{"bit_rate":200000,"height":180,"width":320}],"width":640}]}"#),
            (.setStreamMuted(SetStreamMuted(id: 13, streamID: "s1", muted: [.video])),
             #"{"type":"set_stream_muted","id":13,"muted":["video"],"stream_id":"s1"}"#),
            (.roomStreamStateUpdate(RoomStreamStateUpdate(roomID: "r1", streams: [StreamInfo(streamID: "s1", user: u, tracks: [TrackInfo(kind: .audio, codec: "aac")], muted: [.audio])])),
             #"{"type":"room_stream_state_update","room_id":"r1","streams":[{"extra_info":"","muted":["audio"],"stream_id":"s1","tracks":[{"codec":"aac","kind":"audio"}],"user":{"user_id":"u1","user_name":"U"}}]}"#),
        ]
    }

    func testDeviceStatesFollowTracksAndMuted() {
        let u = UserInfo(userID: "u1", userName: "U")
        var info = StreamInfo(streamID: "s1", user: u, tracks: [TrackInfo(kind: .video, codec: "h264")])
        XCTAssertEqual(info.deviceState(.video), .open)
        XCTAssertEqual(info.deviceState(.audio), .disable, "no audio track: the microphone is disabled")
        info.muted = StreamInfo.normalizedMuted([.audio, .video, .video])
        XCTAssertEqual(info.muted, [.video, .audio])
        XCTAssertEqual(info.deviceState(.video), .mute)
        XCTAssertEqual(info.deviceState(.audio), .disable, "an absent track stays disabled, muted or not")
        XCTAssertNil(StreamInfo.normalizedMuted([]))
    }

    func testEveryMessageTypeHasAGoldenCase() {
        XCTAssertEqual(Set(golden.map(\.0.typeName)), Set(ControlMessage.allTypeNames))
    }

    func testGoldenJSONAndRoundTrip() throws {
        for (message, json) in golden {
            XCTAssertEqual(String(decoding: message.encodeJSON(), as: UTF8.self), json, message.typeName)
            XCTAssertEqual(try ControlMessage.decode(payload: ByteBuffer(string: json)), message, message.typeName)
        }
    }

    func testControlFrameBytes() {
        var b = ByteBuffer()
        ControlMessage.logout(PlainRequest(id: 2)).write(to: &b)
        let json = Array(#"{"type":"logout","id":2}"#.utf8)
        XCTAssertEqual(Array(b.readableBytesView), [0, 0, 0, UInt8(json.count + 1), 0x02] + json)
    }

    func testUnknownFieldsAreIgnored() throws {
        let json = #"{"type":"play","id":5,"stream_id":"s1","future_field":{"x":1}}"#
        XCTAssertEqual(try ControlMessage.decode(payload: ByteBuffer(string: json)), .play(PlayRequest(id: 5, streamID: "s1")))
    }

    func testUnknownTypeKeepsTheRequestID() {
        let json = #"{"type":"teleport","id":42}"#
        XCTAssertThrowsError(try ControlMessage.decode(payload: ByteBuffer(string: json))) { error in
            XCTAssertEqual(error as? RoomProtocolError, .unknownMessageType("teleport", requestID: 42))
        }
    }

    func testMissingFieldIsNamed() {
        XCTAssertThrowsError(try ControlMessage.decode(payload: ByteBuffer(string: #"{"type":"play","id":1}"#))) { error in
            XCTAssertEqual(error as? RoomProtocolError, .malformedControl("play: missing field \"stream_id\""))
        }
    }

    func testTypeAnywhereInTheObjectIsRead() throws {
        // rtcbox and the room page write "type" first; other peers may not, or may escape it.
        let ping = ControlMessage.ping(Ping(id: 3, time: 5))
        XCTAssertEqual(try ControlMessage.decode(payload: ByteBuffer(string: #"{"id":3,"type":"ping","time":5}"#)), ping)
        XCTAssertEqual(try ControlMessage.decode(payload: ByteBuffer(string: #"{ "type" : "ping", "id":3, "time":5}"#)), ping)
        XCTAssertEqual(try ControlMessage.decode(payload: ByteBuffer(string: #"{"type":"p\u0069ng","id":3,"time":5}"#)), ping)
        XCTAssertThrowsError(try ControlMessage.decode(payload: ByteBuffer(string: #"{"id":42,"type":"teleport"}"#))) { error in
            XCTAssertEqual(error as? RoomProtocolError, .unknownMessageType("teleport", requestID: 42))
        }
    }

    func testALeadingTypeBeforeBrokenJSONIsStillMalformed() {
        for junk in [#"{"type":"ping""#, #"{"type":"ping",}"#, #"{"type":"ping","id":3,"time":5"#, #"{"type":"ping"x"#] {
            XCTAssertThrowsError(try ControlMessage.decode(payload: ByteBuffer(string: junk)), junk) { error in
                guard case .malformedControl = error as? RoomProtocolError else { return XCTFail("\(junk): \(error)") }
            }
        }
    }

    func testNotJSONIsMalformed() {
        for junk in ["", "[]", "{\"id\":1}", "\u{0}\u{1}garbage"] {
            XCTAssertThrowsError(try ControlMessage.decode(payload: ByteBuffer(string: junk)), junk)
        }
    }
}
