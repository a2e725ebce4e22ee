/// Values shared by requests and events: who is in a room, what they publish, how it is encoded.

public struct UserInfo: Codable, Sendable, Equatable, Hashable {
    public var userID: String
    public var userName: String

    public init(userID: String, userName: String) {
        self.userID = userID
        self.userName = userName
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userName = "user_name"
    }
}

/// The media kind of a track; its raw value is the `track` byte of a media frame.
public enum TrackKind: UInt8, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case video = 0
    case audio = 1

    public var description: String { self == .video ? "video" : "audio" }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        switch name {
        case "video": self = .video
        case "audio": self = .audio
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown track kind \(name)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// How one track of a stream is encoded. Video payloads are H.264 Annex-B access units with SPS/PPS in
/// band at every keyframe; audio payloads are raw AAC frames whose AudioSpecificConfig is `extradata`.
public struct TrackInfo: Codable, Sendable, Equatable {
    public var kind: TrackKind
    /// "h264", "aac" (later "opus").
    public var codec: String
    public var width: Int?
    public var height: Int?
    /// Nominal frame rate (frames per second).
    public var frameRate: Double?
    public var sampleRate: Int?
    public var channels: Int?
    public var bitRate: Int?
    /// Codec configuration, base64: H.264 SPS/PPS (Annex-B), AAC AudioSpecificConfig.
    public var extradata: String?
    /// Video published in layers (`publish --layers`): each layer's size and bit rate, the big one first
    /// (what the track's own figures describe), then the small one, whose frames carry the small-layer flag.
    public var layers: [TrackLayer]?

    public init(kind: TrackKind, codec: String, width: Int? = nil, height: Int? = nil, frameRate: Double? = nil,
                sampleRate: Int? = nil, channels: Int? = nil, bitRate: Int? = nil, extradata: String? = nil,
                layers: [TrackLayer]? = nil) {
        self.kind = kind
        self.codec = codec
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
        self.extradata = extradata
        self.layers = layers
    }

    /// This track as a player of `layer` sees it: the small layer's size and bit rate (no extradata: its
    /// parameter sets are in band), the big one's unchanged.
    public func described(as layer: VideoLayerChoice) -> TrackInfo {
        guard kind == .video, layer == .small, let layers, layers.count > 1 else { return self }
        var t = self
        t.width = layers[1].width
        t.height = layers[1].height
        t.bitRate = layers[1].bitRate
        t.extradata = nil
        return t
    }

    enum CodingKeys: String, CodingKey {
        case kind, codec, width, height, channels, extradata, layers
        case frameRate = "frame_rate"
        case sampleRate = "sample_rate"
        case bitRate = "bit_rate"
    }
}

/// One layer of a video track published in layers.
public struct TrackLayer: Codable, Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bitRate: Int?

    public init(width: Int, height: Int, bitRate: Int? = nil) {
        self.width = width
        self.height = height
        self.bitRate = bitRate
    }

    enum CodingKeys: String, CodingKey {
        case width, height
        case bitRate = "bit_rate"
    }
}

/// Which layer of a layered stream a play gets (the SDK's setPlayStreamVideoType).
public enum VideoLayerChoice: String, Codable, Sendable, CaseIterable {
    case big, small
}

extension StreamInfo {
    /// The stream as a player of `layer` sees it.
    public func described(as layer: VideoLayerChoice) -> StreamInfo {
        var s = self
        s.tracks = tracks.map { $0.described(as: layer) }
        return s
    }

    /// Whether its video is published in a big and a small layer.
    public var isLayered: Bool { tracks.contains { $0.kind == .video && ($0.layers?.count ?? 0) > 1 } }
}

/// A live stream as members of a room see it.
public struct StreamInfo: Codable, Sendable, Equatable {
    public var streamID: String
    public var user: UserInfo
    public var extraInfo: String
    public var tracks: [TrackInfo]
    /// The tracks the publisher muted (camera or microphone off: their frames are not sent, the stream stays
    /// live). Absent on the wire when none is.
    public var muted: [TrackKind]?

    public init(streamID: String, user: UserInfo, extraInfo: String = "", tracks: [TrackInfo], muted: [TrackKind]? = nil) {
        self.streamID = streamID
        self.user = user
        self.extraInfo = extraInfo
        self.tracks = tracks
        self.muted = muted
    }

    enum CodingKeys: String, CodingKey {
        case streamID = "stream_id"
        case user
        case extraInfo = "extra_info"
        case tracks, muted
    }

    /// The state of the device behind a kind of track, as the SDK's remote camera / microphone state reports it.
    public func deviceState(_ kind: TrackKind) -> DeviceState {
        guard tracks.contains(where: { $0.kind == kind }) else { return .disable }
        return muted?.contains(kind) == true ? .mute : .open
    }

    /// `muted` as the wire has it: each kind once, video first; nil for none.
    public static func normalizedMuted(_ kinds: some Sequence<TrackKind>) -> [TrackKind]? {
        let set = Set(kinds)
        let list = TrackKind.allCases.filter(set.contains)
        return list.isEmpty ? nil : list
    }
}

/// A remote camera's or microphone's state: sending (`open`), muted by the publisher (`mute`), or not part
/// of the stream at all (`disable`).
public enum DeviceState: String, Codable, Sendable {
    case open, mute, disable
}

/// Whether an update adds or removes users/streams.
public enum UpdateType: String, Codable, Sendable {
    case add
    case delete
}
