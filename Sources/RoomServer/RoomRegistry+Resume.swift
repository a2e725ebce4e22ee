import Foundation
import NIOCore
import RoomProtocol

/// Reconnect grace: a dropped connection keeps its user and streams for a while, and a client that logs in
/// again with its session id takes them back without the room seeing a leave, a join, or its streams end.
extension RoomRegistry {
    /// The connection of a logged-in session closed (called under the lock): it stops receiving media, its
    /// streams stay live (silent), and it leaves for good if nobody resumes it in time.
    func detach(_ session: ServerSession) {
        guard let login = session.login else { return }
        for streamID in session.playing {
            let key = AppScoped(appID: login.appID, id: streamID)
            streams[key]?.fanout.remove(session)
            waitingPlayers[key]?.removeAll { $0 === session }
        }
        session.playing.removeAll()
        session.closeUDPPlays()
        // UDP media of its streams ends with the connection: a resumed session negotiates anew.
        for stream in session.published.values {
            stream.awaitingRepublish = true
            stream.udpIngest = nil
        }
        let grace = TimeAmount.milliseconds(Int64(configuration.reconnectGraceSeconds * 1000))
        session.detachedTimer = session.eventLoop.scheduleTask(in: grace) { [weak self, weak session] in
            guard let self, let session else { return }
            self.lock.withLock {
                guard session.detachedTimer != nil, session.login != nil else { return }
                self.logger.info("reconnect grace over, the session leaves", metadata: ["user": "\(login.user.userID)"])
                self.leave(session, notifySelf: false)
            }
        }
        logger.info("connection lost, session kept for resume", metadata: ["user": "\(login.user.userID)", "session": "\(session.id)"])
    }

    /// Moves a session's place in its room to a new connection (called under the lock). The old connection,
    /// if it is still open (the server had not noticed it die), is closed without a word.
    func resume(_ previous: ServerSession, into session: ServerSession, request: LoginRequest, grant: ServerSession.Grant) {
        guard let login = previous.login, let room = rooms[AppScoped(appID: login.appID, id: login.roomID)] else { return }
        previous.detachedTimer?.cancel()
        previous.detachedTimer = nil
        cancelTokenTimers(previous)
        for streamID in previous.playing {
            streams[AppScoped(appID: login.appID, id: streamID)]?.fanout.remove(previous)
        }
        previous.playing.removeAll()
        previous.closeUDPPlays()
        var resumed = login
        resumed.userStatus = request.userStatus
        resumed.soundLevels = request.soundLevels == true
        resumed.user = request.user
        resumed.userEventsAfter = userEventSeq   // its answer lists the members as they are now
        session.login = resumed
        session.grant = grant
        session.published = previous.published
        for stream in session.published.values {
            stream.publisher = session
            stream.awaitingRepublish = true
        }
        previous.published = [:]
        previous.login = nil
        if !previous.ended {
            // Closed from the loop's task queue, never inline: we hold the registry's lock, and on the same
            // event loop the close would run channelInactive -> disconnected -> the lock again (a deadlock
            // in release builds, a trap in debug ones).
            let channel = previous.channel
            channel.eventLoop.execute { channel.close(promise: nil) }
        }
        previous.ended = true
        room.members[login.user.userID] = session
        users[AppScoped(appID: login.appID, id: login.user.userID)] = session
        let others = room.members.values.filter { $0 !== session }.compactMap { $0.login?.user }.sorted { $0.userID < $1.userID }
        session.send(.result(ResultMessage(id: request.id, sessionID: login.sessionID, users: request.userStatus ? others : nil,
                                           streams: room.liveStreams.map(\.info),
                                           roomExtraInfo: room.extraInfoList.isEmpty ? nil : room.extraInfoList,
                                           tokenExpire: grant.expiresAt, resumed: true,
                                           scenario: configuration.app(login.appID)?.scenario(forRoom: login.roomID)?.rawValue)))
        scheduleTokenTimers(session)
        logger.info("session resumed", metadata: ["user": "\(login.user.userID)", "session": "\(session.id)"])
    }
}
