import Foundation
import RoomProtocol

/// What a room carries besides streams: room extra info, stream extra info, broadcast messages and
/// custom commands. Each goes to the other members of the sender's room only.
extension RoomRegistry {
    func setRoomExtraInfo(_ session: ServerSession, _ request: SetRoomExtraInfo) {
        lock.withLock {
            guard let (login, room) = member(session, request.id, "set_room_extra_info") else { return }
            if let (code, problem) = Self.sizeProblem(request.key, "the extra info key", limit: RoomLimits.extraInfoKeyLength)
                ?? Self.sizeProblem(request.value, "the extra info value", limit: RoomLimits.extraInfoValueLength, mayBeEmpty: true) {
                return session.refuse(request.id, code, problem)
            }
            if room.extraInfo[request.key] == nil {
                guard room.extraInfoOrder.count < RoomLimits.extraInfoKeys else {
                    return session.refuse(request.id, .roomFull, "room \"\(room.roomID)\" already has \(RoomLimits.extraInfoKeys) extra info keys")
                }
                room.extraInfoOrder.append(request.key)
            }
            let info = RoomExtraInfo(key: request.key, value: request.value, updateUser: login.user, updateTime: Self.nowMilliseconds())
            room.extraInfo[request.key] = info
            session.send(.result(ResultMessage(id: request.id)))
            let event = ControlMessage.roomExtraInfoUpdate(RoomExtraInfoUpdate(roomID: room.roomID, extraInfo: [info]))
            notifyOthers(in: room, except: session, event)
        }
    }

    func setStreamExtraInfo(_ session: ServerSession, _ request: SetStreamExtraInfo) {
        lock.withLock {
            guard let (_, room) = member(session, request.id, "set_stream_extra_info") else { return }
            guard let stream = ownStream(session, request.id, request.streamID) else { return }
            if let (code, problem) = Self.sizeProblem(request.extraInfo, "the stream extra info", limit: RoomLimits.streamExtraInfoLength, mayBeEmpty: true) {
                return session.refuse(request.id, code, problem)
            }
            stream.info.extraInfo = request.extraInfo
            session.send(.result(ResultMessage(id: request.id)))
            let event = ControlMessage.roomStreamExtraInfoUpdate(RoomStreamExtraInfoUpdate(roomID: room.roomID, streams: [stream.info]))
            notifyOthers(in: room, except: session, event)
        }
    }

    /// A publisher's new track description (traffic control changed the size or frame rate): kept for the
    /// plays that start from now on, and told to everyone else in the room.
    func setStreamTracks(_ session: ServerSession, _ request: SetStreamTracks) {
        lock.withLock {
            guard let (_, room) = member(session, request.id, "set_stream_tracks") else { return }
            guard let stream = ownStream(session, request.id, request.streamID) else { return }
            if let problem = Self.problem(with: request.tracks) {
                return session.refuse(request.id, .badRequest, problem)
            }
            guard Set(request.tracks.map(\.kind)) == Set(stream.info.tracks.map(\.kind)) else {
                return session.refuse(request.id, .badRequest, "set_stream_tracks cannot add or remove tracks, only describe them anew")
            }
            stream.info.tracks = request.tracks
            session.send(.result(ResultMessage(id: request.id)))
            notifyOthers(in: room, except: session,
                         .roomStreamTracksUpdate(RoomStreamTracksUpdate(roomID: room.roomID, streams: [stream.info])))
        }
    }

    /// A publisher muting or unmuting its camera or microphone: kept in the stream's info (late logins see it
    /// in their snapshot), told to everyone else in the room.
    func setStreamMuted(_ session: ServerSession, _ request: SetStreamMuted) {
        lock.withLock {
            guard let (_, room) = member(session, request.id, "set_stream_muted") else { return }
            guard let stream = ownStream(session, request.id, request.streamID) else { return }
            if let problem = Self.mutedProblem(request.muted, stream: stream.info) {
                return session.refuse(request.id, .badRequest, problem)
            }
            let muted = StreamInfo.normalizedMuted(request.muted)
            session.send(.result(ResultMessage(id: request.id)))
            guard muted != stream.info.muted else { return }
            stream.info.muted = muted
            stream.fanout.forgetSoundLevel()   // the level after an unmute is news, even the one from before
            notifyOthers(in: room, except: session,
                         .roomStreamStateUpdate(RoomStreamStateUpdate(roomID: room.roomID, streams: [stream.info])))
            if muted?.contains(.audio) == true, stream.soundLevel != nil, stream.soundLevel != SoundLevel.silence {
                setSoundLevel(stream, in: room, SoundLevel.silence)   // a muted microphone reads 0
            }
        }
    }

    /// Why a list of muted tracks does not fit a stream (a kind it does not have), or nil.
    static func mutedProblem(_ muted: [TrackKind]?, stream: StreamInfo) -> String? {
        for kind in muted ?? [] where !stream.tracks.contains(where: { $0.kind == kind }) {
            return "stream \"\(stream.streamID)\" has no \(kind) track to mute"
        }
        return nil
    }

    func broadcast(_ session: ServerSession, _ request: SendBroadcastMessage) {
        lock.withLock {
            guard let (login, room) = member(session, request.id, "send_broadcast_message") else { return }
            if let (code, problem) = Self.sizeProblem(request.message, "the message", limit: RoomLimits.messageLength) {
                return session.refuse(request.id, code, problem)
            }
            guard room.messageBucket.take() else {
                return session.refuse(request.id, .rateLimited, "room \"\(room.roomID)\" accepts \(Self.format(room.messageBucket.perSecond)) broadcast messages per second")
            }
            let messageID = room.nextMessageID
            room.nextMessageID += 1
            session.send(.result(ResultMessage(id: request.id, messageID: messageID)))
            let event = ControlMessage.broadcastMessage(BroadcastMessage(roomID: room.roomID, messageID: messageID, fromUser: login.user,
                                                                         message: request.message, sendTime: Self.nowMilliseconds()))
            notifyOthers(in: room, except: session, event)
        }
    }

    func customCommand(_ session: ServerSession, _ request: SendCustomCommand) {
        lock.withLock {
            guard let (login, room) = member(session, request.id, "send_custom_command") else { return }
            if let (code, problem) = Self.sizeProblem(request.command, "the command", limit: RoomLimits.commandLength) {
                return session.refuse(request.id, code, problem)
            }
            if request.toUserIDs.isEmpty {
                return session.refuse(request.id, .badRequest, "a custom command needs at least one user id")
            }
            if request.toUserIDs.count > RoomLimits.commandRecipients {
                return session.refuse(request.id, .valueTooLong, "a custom command goes to at most \(RoomLimits.commandRecipients) users")
            }
            let recipients = Set(request.toUserIDs).compactMap { room.members[$0] }.filter { $0 !== session }
            guard !recipients.isEmpty else {
                return session.refuse(request.id, .userNotFound, "none of \(request.toUserIDs.joined(separator: ", ")) is in room \"\(room.roomID)\"")
            }
            session.send(.result(ResultMessage(id: request.id)))
            let event = ControlMessage.customCommand(CustomCommand(roomID: room.roomID, fromUser: login.user, command: request.command))
            flushUserEvents(room)
            send(event, to: recipients)
        }
    }

    /// The session's login and room, or an error answer (called under the lock).
    private func member(_ session: ServerSession, _ id: UInt32, _ what: String) -> (ServerSession.Login, Room)? {
        guard let login = session.login, let room = rooms[AppScoped(appID: login.appID, id: login.roomID)] else {
            session.refuse(id, .notLoggedIn, "\(what) needs a login first")
            return nil
        }
        return (login, room)
    }

    /// A stream this session publishes, or a not_publishing answer (called under the lock).
    func ownStream(_ session: ServerSession, _ id: UInt32?, _ streamID: String) -> LiveStream? {
        guard let stream = session.published[streamID] else {
            session.refuse(id, .notPublishing, "this session does not publish stream \"\(streamID)\"")
            return nil
        }
        return stream
    }

    /// bad_request for an empty text (unless allowed), value_too_long past its byte limit.
    static func sizeProblem(_ text: String, _ what: String, limit: Int, mayBeEmpty: Bool = false) -> (RoomErrorCode, String)? {
        let size = text.utf8.count
        if size == 0 && !mayBeEmpty { return (.badRequest, "\(what) is empty") }
        if size > limit { return (.valueTooLong, "\(what) is \(size) bytes, the limit is \(limit)") }
        return nil
    }

    static func nowMilliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%.2f", rate)
    }
}
