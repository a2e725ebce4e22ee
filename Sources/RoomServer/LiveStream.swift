import RoomProtocol

/// A stream being published: who publishes it, how it is encoded, and its fan-out.
final class LiveStream: @unchecked Sendable {
    let appID: UInt32
    let roomID: String
    let handle: UInt32
    let publisher: ServerSession
    /// Changed only under the registry lock.
    var info: StreamInfo
    let fanout: StreamFanout

    init(appID: UInt32, roomID: String, handle: UInt32, publisher: ServerSession, info: StreamInfo, fanout: StreamFanout) {
        self.appID = appID
        self.roomID = roomID
        self.handle = handle
        self.publisher = publisher
        self.info = info
        self.fanout = fanout
    }

    var streamID: String { info.streamID }
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

    init(appID: UInt32, roomID: String) {
        self.appID = appID
        self.roomID = roomID
    }

    var liveStreams: [LiveStream] { streamOrder.compactMap { streams[$0] } }
}

struct AppScoped: Hashable {
    var appID: UInt32
    var id: String
}
