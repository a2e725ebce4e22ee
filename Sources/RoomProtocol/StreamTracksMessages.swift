/// A live stream's tracks changing under way: traffic control encoding a smaller size or a lower frame rate.

/// set_stream_tracks: the new description of a stream this session publishes, sent just before the first
/// frame that follows it (the keyframe with the new SPS/PPS), on the same connection, so it is ordered
/// with the media. The publisher does not wait for its result: `id` 0 asks for none to be awaited (the
/// server still answers; a client ignores answers to ids it did not ask with).
public struct SetStreamTracks: Codable, Sendable, Equatable {
    public var id: UInt32
    public var streamID: String
    public var tracks: [TrackInfo]

    public init(id: UInt32 = 0, streamID: String, tracks: [TrackInfo]) {
        self.id = id
        self.streamID = streamID
        self.tracks = tracks
    }

    enum CodingKeys: String, CodingKey {
        case id, tracks
        case streamID = "stream_id"
    }
}

/// room_stream_tracks_update: live streams of the room whose tracks changed (their new `tracks`). Players
/// follow from the stream itself (the keyframe carries its parameter sets); this tells them, and everyone
/// else in the room, what it now is. The same shape as room_stream_extra_info_update: the room and the
/// streams that changed.
public typealias RoomStreamTracksUpdate = RoomStreamExtraInfoUpdate

/// set_stream_muted: the tracks of a stream this session publishes that are muted now (all of them, an empty
/// list for none). A muted track's frames are not sent; the stream stays live and its players' outputs go on.
public struct SetStreamMuted: Codable, Sendable, Equatable {
    public var id: UInt32
    public var streamID: String
    public var muted: [TrackKind]

    public init(id: UInt32, streamID: String, muted: [TrackKind]) {
        self.id = id
        self.streamID = streamID
        self.muted = muted
    }

    enum CodingKeys: String, CodingKey {
        case id, muted
        case streamID = "stream_id"
    }
}

/// room_stream_state_update: live streams of the room whose muted tracks changed (their `muted`), for the
/// remote camera and microphone states. The same shape as room_stream_extra_info_update.
public typealias RoomStreamStateUpdate = RoomStreamExtraInfoUpdate
