import RoomProtocol

/// Sound levels (the SDK's remote sound levels): publishers put the level of what they capture on their audio
/// frames (`MediaFrameHeader.soundLevel`); the connection handler tells the registry when a stream's level
/// changes, and the registry tells the room's logins that asked for them. Nothing is decoded.
extension RoomRegistry {
    /// A stream of `session` (by handle) now carries this level: kept, and sent to the other members that
    /// asked (`sound_levels`). Called on the publisher's loop, only when the level changed.
    func soundLevelChanged(_ session: ServerSession, handle: UInt32, dBov: UInt8) {
        lock.withLock {
            guard let stream = session.published.values.first(where: { $0.handle == handle }),
                  let room = rooms[AppScoped(appID: stream.appID, id: stream.roomID)] else { return }
            guard stream.soundLevel != dBov else { return }
            setSoundLevel(stream, in: room, dBov)
        }
    }

    /// Keeps a stream's new level and tells the members that asked, but its publisher (under the lock).
    func setSoundLevel(_ stream: LiveStream, in room: Room, _ dBov: UInt8) {
        stream.soundLevel = dBov
        let update = RoomSoundLevelUpdate(roomID: room.roomID, levels: [.init(streamID: stream.streamID, level: SoundLevel.percent(dBov: dBov))])
        send(.roomSoundLevelUpdate(update), to: room.members.values.lazy.filter { $0 !== stream.publisher && $0.login?.soundLevels == true })
    }

    /// Right after a login that asked: the level of every stream of the room that has one (called under the lock).
    func sendSoundLevels(of room: Room, to session: ServerSession) {
        let levels = room.liveStreams.compactMap { stream in
            stream.soundLevel.map { RoomSoundLevelUpdate.Level(streamID: stream.streamID, level: SoundLevel.percent(dBov: $0)) }
        }
        guard !levels.isEmpty else { return }
        session.send(.roomSoundLevelUpdate(RoomSoundLevelUpdate(roomID: room.roomID, levels: levels)))
    }
}
