import NIOCore
import RoomProtocol

/// room_user_update events, gathered: the first join or leave after a quiet spell goes out at once, later
/// ones wait until `userEventsWindow` has passed since the last send and go out together, one event per run
/// of joins or leaves listing every user (the SDK's onRoomUserUpdate gives a user list too). A room where a
/// thousand members arrive at once, each asking for user events, gets some thousands of messages instead of
/// a million.
///
/// Every event has a sequence number; a member is sent only the events numbered after its own login (its
/// login answer already listed everyone in before it), so it never hears of its own arrival or twice of
/// anyone. Any other room event first sends what is waiting, so each member still sees the room's events in
/// the order they happened. Everything here runs under the registry's lock.
extension RoomRegistry {
    struct PendingUserEvent {
        var seq: UInt64
        var type: UpdateType
        var user: UserInfo
    }

    static let userEventsWindow = TimeAmount.milliseconds(50)

    /// The number the next user event of any room takes; a login or resume sees everything numbered before.
    func takeUserEventSeq() -> UInt64 {
        userEventSeq += 1
        return userEventSeq
    }

    /// Queues a join or leave for the room's members that asked for user events.
    func queueUserEvent(_ type: UpdateType, _ user: UserInfo, seq: UInt64, in room: Room, key: AppScoped, loop: EventLoop) {
        room.pendingUserEvents.append(PendingUserEvent(seq: seq, type: type, user: user))
        guard !room.userEventsFlushScheduled else { return }
        let due = room.lastUserEventsFlush + Self.userEventsWindow
        if NIODeadline.now() >= due { return flushUserEvents(room) }
        room.userEventsFlushScheduled = true
        loop.scheduleTask(deadline: due) { [self] in
            lock.withLock {
                guard let room = rooms[key] else { return }
                room.userEventsFlushScheduled = false
                flushUserEvents(room)
            }
        }
    }

    /// Sends the room's waiting user events: one encoding for the members that were in before all of them,
    /// their own tail for those who arrived meanwhile.
    func flushUserEvents(_ room: Room) {
        guard let first = room.pendingUserEvents.first else { return }
        let events = room.pendingUserEvents
        room.pendingUserEvents = []
        room.lastUserEventsFlush = .now()
        var shared: [ByteBuffer]?
        for member in room.members.values {
            guard let login = member.login, login.userStatus else { continue }
            let frames: [ByteBuffer]
            if login.userEventsAfter < first.seq {
                frames = shared ?? Self.userUpdateFrames(roomID: room.roomID, events[...])
                shared = frames
            } else {
                frames = Self.userUpdateFrames(roomID: room.roomID, events.drop { $0.seq <= login.userEventsAfter })
            }
            for frame in frames { member.send(encoded: frame) }
        }
    }

    /// One room_user_update per run of events of the same type, in order.
    static func userUpdateFrames(roomID: String, _ events: ArraySlice<PendingUserEvent>) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        var i = events.startIndex
        while i < events.endIndex {
            let type = events[i].type
            var users: [UserInfo] = []
            while i < events.endIndex && events[i].type == type {
                users.append(events[i].user)
                i += 1
            }
            frames.append(ControlMessage.roomUserUpdate(RoomUserUpdate(roomID: roomID, updateType: type, users: users)).frame())
        }
        return frames
    }
}
