import Foundation
import RoomProtocol

/// Room states, as the SDK names them.
public enum RoomState: String, Sendable, Codable {
    case logining, logined, reconnecting, reconnected
    case reconnectFailed = "reconnect_failed"
    case kickedOut = "kicked_out"
    case logout
    case disconnected
}

public enum PublisherState: String, Sendable, Codable {
    case noPublish = "no_publish"
    case publishRequesting = "publish_requesting"
    case publishing
}

public enum PlayerState: String, Sendable, Codable {
    case noPlay = "no_play"
    case playRequesting = "play_requesting"
    case playing
}

/// Quality figures a publisher or player reports every few seconds.
public struct QualityReport: Sendable, Codable, Equatable {
    public var streamID: String
    public var fps: Double
    public var kbps: Double
    public var framesDropped: Int
    /// Publisher: capture to send. Player: capture (on the publisher's clock) to arrival.
    public var latencyMs: Double?
    /// Round trip to the server, from the last ping.
    public var rttMs: Double?
    /// Publisher: the video bit rate the encoder is asked for (traffic control), kbit/s.
    public var targetKbps: Double?
    /// Publisher: how long the oldest frame waiting for the socket has waited. Player: the latency above the
    /// quietest seen on this stream (what queues on the way add).
    public var queueMs: Double?
    /// Player: of `framesDropped`, those the server dropped because this downlink could not take them.
    public var serverFramesDropped: Int?
    /// Media over UDP ("udp"; absent on the room connection). Since the stream started: publisher, the share
    /// of the bytes sent that were retransmissions (NACKed); player, video frames the jitter buffer gave up
    /// (a loss not repaired in time), freezes (give-ups while frames were flowing), audio frames concealed
    /// and their share of the audio frames due.
    public var transport: String?
    public var retransmittedPercent: Double?
    public var framesGivenUp: Int?
    public var freezes: Int?
    public var audioConcealed: Int?
    public var audioConcealedPercent: Double?
    /// Player over UDP: audio packets lost and recovered from RED's redundancy (not concealed).
    public var audioRecovered: Int?

    public init(streamID: String, fps: Double, kbps: Double, framesDropped: Int, latencyMs: Double?, rttMs: Double? = nil) {
        self.streamID = streamID
        self.fps = fps
        self.kbps = kbps
        self.framesDropped = framesDropped
        self.latencyMs = latencyMs
        self.rttMs = rttMs
    }

    enum CodingKeys: String, CodingKey {
        case fps, kbps
        case streamID = "stream_id"
        case framesDropped = "frames_dropped"
        case latencyMs = "latency_ms"
        case rttMs = "rtt_ms"
        case targetKbps = "target_kbps"
        case serverFramesDropped = "server_frames_dropped"
        case queueMs = "queue_ms"
        case transport
        case retransmittedPercent = "retransmitted_percent"
        case framesGivenUp = "frames_given_up"
        case freezes
        case audioConcealed = "audio_concealed"
        case audioConcealedPercent = "audio_concealed_percent"
        case audioRecovered = "audio_recovered"
    }
}

/// How the uplink (publishing) and downlink (playing) do, every 2 s, in the SDK's levels.
public struct NetworkQualityReport: Sendable, Codable, Equatable {
    public var uplink: NetworkQualityLevel
    public var downlink: NetworkQualityLevel
    public var rttMs: Double?
    /// What the kernel took from the publishers' queues, kbit/s.
    public var uplinkKbps: Double?
    /// The video bit rate traffic control asks of the encoders, kbit/s.
    public var targetKbps: Double?
    public var backlogMs: Double?
    /// The players' latency above the quietest seen.
    public var downlinkQueueMs: Double?

    public init(uplink: NetworkQualityLevel, downlink: NetworkQualityLevel, rttMs: Double?) {
        self.uplink = uplink
        self.downlink = downlink
        self.rttMs = rttMs
    }

    enum CodingKeys: String, CodingKey {
        case uplink, downlink
        case rttMs = "rtt_ms"
        case uplinkKbps = "uplink_kbps"
        case targetKbps = "target_kbps"
        case backlogMs = "backlog_ms"
        case downlinkQueueMs = "downlink_queue_ms"
    }
}

/// Traffic control changed a publisher's video bit rate.
public struct TrafficControlReport: Sendable, Codable, Equatable {
    public var streamID: String
    public var videoKbps: Double
    /// What the link carried in the last interval.
    public var linkKbps: Double
    public var backlogMs: Double
    public var reason: String
    /// When the step changed the layer: the size and frame rate the encoder now makes.
    public var width: Int?
    public var height: Int?
    public var frameRate: Double?

    enum CodingKeys: String, CodingKey {
        case reason, width, height
        case frameRate = "frame_rate"
        case streamID = "stream_id"
        case videoKbps = "video_kbps"
        case linkKbps = "link_kbps"
        case backlogMs = "backlog_ms"
    }
}

/// Everything a client reports, mirroring the SDK's callbacks. `json` is the JSON-lines form of `--events`.
public enum RoomEvent: Sendable {
    /// `networkError` is NetworkFailure's code when the network failed (reconnect_failed, a login that could not connect).
    case roomState(roomID: String, state: RoomState, errorCode: RoomErrorCode?, reason: String, networkError: String? = nil)
    case roomUserUpdate(RoomUserUpdate)
    case roomStreamUpdate(RoomStreamUpdate)
    case publisherState(streamID: String, state: PublisherState, errorCode: RoomErrorCode?, reason: String)
    case playerState(streamID: String, state: PlayerState, errorCode: RoomErrorCode?, reason: String)
    case publisherQuality(QualityReport)
    case playerQuality(QualityReport)
    case roomExtraInfoUpdate(RoomExtraInfoUpdate)
    case roomStreamExtraInfoUpdate(RoomStreamExtraInfoUpdate)
    case broadcastMessage(BroadcastMessage)
    case customCommand(CustomCommand)
    case tokenWillExpire(TokenWillExpire)
    case networkQuality(NetworkQualityReport)
    case trafficControl(TrafficControlReport)
    case roomStreamTracksUpdate(RoomStreamTracksUpdate)
    /// A played stream's video now has this size (the SDK's onPlayerVideoSizeChanged).
    case playerVideoSizeChanged(streamID: String, width: Int, height: Int, frameRate: Double?)
    /// How a published or played stream's media travels now: "udp", "tcp" (the room connection), or "none"
    /// (`--transport udp` and UDP could not be had); `role` is "publisher" or "player".
    case mediaTransport(streamID: String, role: String, transport: String, reason: String)
    /// A played stream pushed to a server (`play -o rtmp://…`): `state` connecting, relaying or retrying;
    /// `url` with its secrets redacted; `retryInSeconds` when retrying.
    case relayState(streamID: String, url: String, state: String, reason: String, retryInSeconds: Double?)
    /// An input of `rtcbox mix`: `state` waiting, mixing, stalled or left; `region` x, y, width, height of
    /// its picture in the mix (nil: none, e.g. audio only).
    case mixInputState(streamID: String, state: String, region: [Int]?)
    /// Side info (SEI) that came with a played video frame (the SDK's onPlayerRecvSEI): the frame's pts in
    /// ms from the stream's start, and the data (as text when it is UTF-8).
    case playerRecvSEI(streamID: String, ptsMs: Double, data: [UInt8])
    /// A remote stream's camera (video) or microphone (audio) state: remote_camera_state_update /
    /// remote_mic_state_update.
    case remoteDeviceStateUpdate(kind: TrackKind, roomID: String, streamID: String, userID: String, state: DeviceState)
    /// A stream of the room is this loud now, 0-100 (`login --sound-levels`).
    case remoteSoundLevelUpdate(roomID: String, streamID: String, level: Double)
    /// An `auto` play of a layered stream asks for another layer (it starts at the stream's next keyframe).
    case playerLayerChanged(streamID: String, layer: String, reason: String)
    /// What this client publishes on a stream measured this loud, 0-100, over the last interval.
    case capturedSoundLevelUpdate(streamID: String, level: Double)

    /// Every event name, as `json()` writes it (docs/events.md has an example of each).
    public static let allNames = [
        "room_state", "room_user_update", "room_stream_update", "publisher_state", "player_state", "publisher_quality",
        "player_quality", "room_extra_info_update", "room_stream_extra_info_update", "broadcast_message", "custom_command",
        "token_will_expire", "network_quality", "traffic_control", "room_stream_tracks_update", "player_video_size_changed",
        "media_transport", "relay_state", "mix_input_state", "player_recv_sei", "remote_camera_state_update",
        "remote_mic_state_update", "remote_sound_level_update", "captured_sound_level_update",
        "player_layer_changed",
    ]

    public var name: String {
        switch self {
        case .roomState: return "room_state"
        case .roomUserUpdate: return "room_user_update"
        case .roomStreamUpdate: return "room_stream_update"
        case .publisherState: return "publisher_state"
        case .playerState: return "player_state"
        case .publisherQuality: return "publisher_quality"
        case .playerQuality: return "player_quality"
        case .roomExtraInfoUpdate: return "room_extra_info_update"
        case .roomStreamExtraInfoUpdate: return "room_stream_extra_info_update"
        case .broadcastMessage: return "broadcast_message"
        case .customCommand: return "custom_command"
        case .tokenWillExpire: return "token_will_expire"
        case .networkQuality: return "network_quality"
        case .trafficControl: return "traffic_control"
        case .roomStreamTracksUpdate: return "room_stream_tracks_update"
        case .playerVideoSizeChanged: return "player_video_size_changed"
        case .mediaTransport: return "media_transport"
        case .relayState: return "relay_state"
        case .mixInputState: return "mix_input_state"
        case .playerRecvSEI: return "player_recv_sei"
        case .remoteDeviceStateUpdate(let kind, _, _, _, _):
            return kind == .video ? "remote_camera_state_update" : "remote_mic_state_update"
        case .remoteSoundLevelUpdate: return "remote_sound_level_update"
        case .capturedSoundLevelUpdate: return "captured_sound_level_update"
        case .playerLayerChanged: return "player_layer_changed"
        }
    }

    /// One JSON object, `{"ts":UNIX_SECONDS,"event":NAME,...}`, no newline.
    public func json(at date: Date = Date()) -> String {
        var fields: [(String, Any)] = [("ts", (date.timeIntervalSince1970 * 1000).rounded() / 1000), ("event", name)]
        func state(_ key: String, _ value: String, _ code: RoomErrorCode?, _ reason: String) {
            fields.append(("state", value))
            fields.append(("error_code", Int(code?.rawValue ?? 0)))
            if let code { fields.append(("error", code.name)) }
            if !reason.isEmpty { fields.append(("reason", reason)) }
        }
        switch self {
        case .roomState(let room, let s, let code, let reason, let network):
            fields.append(("room_id", room))
            state("state", s.rawValue, code, reason)
            if let network { fields.append(("network_error", network)) }
        case .roomUserUpdate(let u):
            fields += Self.objectFields(u)
        case .roomStreamUpdate(let u):
            fields += Self.objectFields(u)
        case .publisherState(let stream, let s, let code, let reason):
            fields.append(("stream_id", stream))
            state("state", s.rawValue, code, reason)
        case .playerState(let stream, let s, let code, let reason):
            fields.append(("stream_id", stream))
            state("state", s.rawValue, code, reason)
        case .publisherQuality(let q), .playerQuality(let q):
            fields += Self.objectFields(q)
        case .roomExtraInfoUpdate(let u): fields += Self.objectFields(u)
        case .roomStreamExtraInfoUpdate(let u): fields += Self.objectFields(u)
        case .broadcastMessage(let m): fields += Self.objectFields(m)
        case .customCommand(let c): fields += Self.objectFields(c)
        case .tokenWillExpire(let t): fields += Self.objectFields(t)
        case .networkQuality(let q): fields += Self.objectFields(q)
        case .trafficControl(let t): fields += Self.objectFields(t)
        case .roomStreamTracksUpdate(let u): fields += Self.objectFields(u)
        case .playerVideoSizeChanged(let stream, let width, let height, let rate):
            fields += [("stream_id", stream), ("width", width), ("height", height)]
            if let rate { fields.append(("frame_rate", rate)) }
        case .mediaTransport(let stream, let role, let transport, let reason):
            fields += [("stream_id", stream), ("role", role), ("transport", transport), ("reason", reason)]
        case .relayState(let stream, let url, let state, let reason, let retry):
            fields += [("stream_id", stream), ("url", url), ("state", state)]
            if let retry { fields.append(("retry_in_s", retry)) }
            if !reason.isEmpty { fields.append(("reason", reason)) }
        case .playerRecvSEI(let stream, let pts, let data):
            fields += [("stream_id", stream), ("pts_ms", (pts * 1000).rounded() / 1000)]
            if let text = String(validating: data, as: UTF8.self) {
                fields.append(("data", text))
            } else {
                fields.append(("data_base64", Data(data).base64EncodedString()))
            }
        case .remoteDeviceStateUpdate(_, let room, let stream, let user, let state):
            fields += [("room_id", room), ("stream_id", stream), ("user_id", user), ("state", state.rawValue)]
        case .remoteSoundLevelUpdate(let room, let stream, let level):
            fields += [("room_id", room), ("stream_id", stream), ("level", level)]
        case .playerLayerChanged(let stream, let layer, let reason):
            fields += [("stream_id", stream), ("layer", layer), ("reason", reason)]
        case .capturedSoundLevelUpdate(let stream, let level):
            fields += [("stream_id", stream), ("level", level)]
        case .mixInputState(let stream, let state, let region):
            fields += [("stream_id", stream), ("state", state)]
            if let region, region.count == 4 {
                fields.append(("region", ["x": region[0], "y": region[1], "width": region[2], "height": region[3]]))
            }
        }
        return Self.render(fields)
    }

    private static func objectFields<T: Encodable>(_ value: T) -> [(String, Any)] {
        let bytes = ControlCoding.encodeJSON(value)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return [] }
        return object.keys.sorted().map { ($0, object[$0] as Any) }
    }

    /// Keeps the key order given (ts and event first), which JSONSerialization alone would not.
    private static func render(_ fields: [(String, Any)]) -> String {
        let parts = fields.map { key, value -> String in
            let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed, .withoutEscapingSlashes, .sortedKeys])) ?? Data("[null]".utf8)
            let text = String(decoding: data, as: UTF8.self)
            return "\"\(key)\":" + text.dropFirst().dropLast()
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
