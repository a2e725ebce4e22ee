import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RoomAuth
import RoomProtocol

/// The one owner of apps → rooms → users and streams. Connection handlers call it; it applies the room
/// rules and sends what each rule says to the sessions concerned, all under one lock so every member sees
/// events in the order they happened.
///
/// The state below is touched only under `lock`; extensions in RoomRegistry+*.swift add the rules for
/// credentials and for the room's extras (extra info, messages, commands).
final class RoomRegistry: @unchecked Sendable {
    let lock = NIOLock()
    let configuration: ServerConfiguration
    let logger: Logger
    let metrics: ServerMetrics
    var rooms: [AppScoped: Room] = [:]
    /// Logged-in sessions by (app, user id): a user id is unique within an app.
    var users: [AppScoped: ServerSession] = [:]
    /// Live streams by (app, stream id): a stream id is unique within an app.
    var streams: [AppScoped: LiveStream] = [:]
    /// Sessions that asked to play a stream that is not live yet.
    var waitingPlayers: [AppScoped: [ServerSession]] = [:]
    private var nextHandle: UInt32 = 1
    /// The number of the last user event queued in any room (RoomRegistry+UserEvents.swift).
    var userEventSeq: UInt64 = 0
    private var shuttingDown = false
    /// The UDP media port (`serve --udp`), set once when the server starts; nil: media over TCP only.
    private let udpBox = NIOLockedValueBox<UDPMediaListener?>(nil)
    var udpMedia: UDPMediaListener? {
        get { udpBox.withLockedValue { $0 } }
        set { udpBox.withLockedValue { $0 = newValue } }
    }

    /// AAC → Opus for WebRTC players of AAC streams (nil: such players get no audio).
    let audioTranscoding: (any AudioTranscoding)?

    init(configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics = .disabled,
         audioTranscoding: (any AudioTranscoding)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.audioTranscoding = audioTranscoding
    }

    struct Counts: Equatable, Sendable {
        var rooms: Int
        var users: Int
        var streams: Int
        var subscribers: Int
    }

    var counts: Counts {
        lock.withLock {
            Counts(rooms: rooms.count, users: users.count, streams: streams.count,
                   subscribers: streams.values.reduce(0) { $0 + $1.fanout.subscriberCount })
        }
    }

    // MARK: requests

    func login(_ session: ServerSession, _ request: LoginRequest) {
        let started = NIODeadline.now()
        let accepted = lock.withLock { loginLocked(session, request) }
        (accepted ? metrics.logins : metrics.loginsRefused).increment()
        metrics.loginLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
    }

    /// Applies the login rules; returns whether the login was accepted.
    private func loginLocked(_ session: ServerSession, _ request: LoginRequest) -> Bool {
        let id = request.id
        guard session.login == nil else {
            return Self.refuse(session, id, .alreadyLoggedIn, "this connection is already logged in")
        }
        guard let app = configuration.app(request.appID) else {
            return Self.refuse(session, id, .appNotFound, "no app with id \(request.appID) on this server")
        }
        if let problem = Identifier.problem(with: request.roomID, kind: .room) ?? Identifier.problem(with: request.user.userID, kind: .user) {
            return Self.refuse(session, id, .invalidID, problem)
        }
        if request.user.userName.utf8.count > 256 {
            return Self.refuse(session, id, .invalidID, "user name is longer than 256 bytes")
        }
        let grant: ServerSession.Grant
        switch authenticate(session, request, app: app) {
        case .success(let g): grant = g
        case .failure(let refusal): return Self.refuse(session, id, refusal.code, refusal.message)
        }
        let roomKey = AppScoped(appID: request.appID, id: request.roomID)
        let userKey = AppScoped(appID: request.appID, id: request.user.userID)
        let existing = rooms[roomKey]
        let takesOver = users[userKey].map { $0.login?.roomID == request.roomID } ?? false
        if let existing, existing.members.count >= app.maxUsersPerRoom, !takesOver {
            return Self.refuse(session, id, .roomFull, "room \"\(request.roomID)\" has reached its limit of \(app.maxUsersPerRoom) users")
        }
        if let previous = users[userKey], let resumable = request.sessionID, previous.login?.sessionID == resumable,
           previous.login?.roomID == request.roomID {
            resume(previous, into: session, request: request, grant: grant)
            return true
        }
        if let previous = users[userKey] {
            logger.info("user logged in again, kicking the previous login", metadata: ["user": "\(request.user.userID)"])
            leave(previous, notifySelf: false)
            previous.end(.kickedOut, reason: "user \"\(request.user.userID)\" logged in from another connection")
        }
        let room = rooms[roomKey] ?? Room(appID: request.appID, roomID: request.roomID, messagesPerSecond: app.messagesPerSecond)
        rooms[roomKey] = room
        let sessionID = UUID().uuidString.lowercased()
        let seq = takeUserEventSeq()
        session.login = .init(appID: request.appID, roomID: request.roomID, user: request.user,
                              userStatus: request.userStatus, soundLevels: request.soundLevels == true,
                              sessionID: sessionID, userEventsAfter: seq)
        session.grant = grant
        let others = room.members.values.map { $0.login?.user }.compactMap { $0 }.sorted { $0.userID < $1.userID }
        room.members[request.user.userID] = session
        users[userKey] = session
        session.send(.result(ResultMessage(id: id, sessionID: sessionID, users: request.userStatus ? others : nil,
                                           streams: room.liveStreams.map(\.info),
                                           roomExtraInfo: room.extraInfoList.isEmpty ? nil : room.extraInfoList,
                                           tokenExpire: grant.expiresAt, scenario: app.scenario(forRoom: request.roomID)?.rawValue)))
        scheduleTokenTimers(session)
        if request.soundLevels == true { sendSoundLevels(of: room, to: session) }
        queueUserEvent(.add, request.user, seq: seq, in: room, key: roomKey, loop: session.eventLoop)
        logger.info("login", metadata: ["room": "\(request.roomID)", "user": "\(request.user.userID)", "session": "\(session.id)"])
        return true
    }

    private static func refuse(_ session: ServerSession, _ id: UInt32, _ code: RoomErrorCode, _ message: String) -> Bool {
        session.refuse(id, code, message)
        return false
    }

    func logout(_ session: ServerSession, requestID: UInt32) {
        lock.withLock {
            guard session.login != nil else {
                return session.send(.error(ErrorMessage(id: requestID, code: .notLoggedIn, message: "not logged in")))
            }
            leave(session, notifySelf: false)
            session.send(.result(ResultMessage(id: requestID)))
        }
    }

    /// Returns the stream's fan-out when publishing started, so the connection can forward media to it.
    func publish(_ session: ServerSession, _ request: PublishRequest) -> StreamFanout? {
        lock.withLock { () -> StreamFanout? in
            let id = request.id
            guard let login = session.login, let room = rooms[AppScoped(appID: login.appID, id: login.roomID)] else {
                session.send(.error(ErrorMessage(id: id, code: .notLoggedIn, message: "publish needs a login first")))
                return nil
            }
            if let problem = Identifier.problem(with: request.streamID, kind: .stream) {
                session.send(.error(ErrorMessage(id: id, code: .invalidID, message: problem)))
                return nil
            }
            if let problem = Self.problem(with: request.tracks)
                ?? Self.mutedProblem(request.muted, stream: StreamInfo(streamID: request.streamID, user: login.user, tracks: request.tracks)) {
                session.send(.error(ErrorMessage(id: id, code: .badRequest, message: problem)))
                return nil
            }
            let key = AppScoped(appID: login.appID, id: request.streamID)
            if let existing = streams[key], existing.publisher === session, existing.awaitingRepublish {
                // A resumed session publishing its stream again: same handle, same players.
                var answer: String?
                switch negotiatePublish(request.sdp, session: session, streamID: request.streamID, fanout: { [weak existing] in existing?.fanout }) {
                case .none: existing.udpIngest = nil
                case .accepted(let sdp, let udp):
                    existing.udpIngest = udp
                    answer = sdp
                case .refused(let why):
                    session.refuse(id, .badRequest, why)
                    return nil
                }
                existing.awaitingRepublish = false
                existing.info.tracks = request.tracks
                existing.info.muted = StreamInfo.normalizedMuted(request.muted ?? [])
                session.send(.result(ResultMessage(id: id, streamHandle: existing.handle, sdp: answer)))
                existing.requestKeyframe()
                logger.info("republished after resume", metadata: ["stream": "\(request.streamID)", "handle": "\(existing.handle)"])
                return existing.fanout
            }
            if let existing = streams[key] {
                let owner = existing.publisher.login?.user.userID ?? "?"
                let message = existing.publisher === session
                    ? "stream \"\(request.streamID)\" is already published by this session"
                    : "stream \"\(request.streamID)\" is already published in room \"\(existing.roomID)\" by user \"\(owner)\""
                session.send(.error(ErrorMessage(id: id, code: .duplicateStream, message: message)))
                return nil
            }
            if let payload = session.grant.payload {
                do {
                    try TokenVerifier.checkPublish(payload, streamID: request.streamID)
                } catch {
                    session.refuse(id, .noPrivilege, "\(error)")
                    return nil
                }
            }
            let app = configuration.app(login.appID) ?? .development
            guard room.streams.count < app.maxStreamsPerRoom else {
                session.send(.error(ErrorMessage(id: id, code: .roomFull, message: "room \"\(login.roomID)\" has reached its limit of \(app.maxStreamsPerRoom) streams")))
                return nil
            }
            let fanoutBox = NIOLockedValueBox<StreamFanout?>(nil)
            var answer: String?
            var ingest: UDPMediaListener.Session?
            switch negotiatePublish(request.sdp, session: session, streamID: request.streamID, fanout: { fanoutBox.withLockedValue { $0 } }) {
            case .none: break
            case .accepted(let sdp, let udp): (answer, ingest) = (sdp, udp)
            case .refused(let why):
                session.refuse(id, .badRequest, why)
                return nil
            }
            let handle = nextHandle
            nextHandle = nextHandle == UInt32.max ? 1 : nextHandle + 1
            let info = StreamInfo(streamID: request.streamID, user: login.user, extraInfo: request.extraInfo ?? "", tracks: request.tracks,
                                  muted: StreamInfo.normalizedMuted(request.muted ?? []))
            let codecs = Dictionary(request.tracks.map { ($0.kind, $0.codec) }, uniquingKeysWith: { a, _ in a })
            let fanout = StreamFanout(handle: handle, streamID: request.streamID, codecs: codecs,
                                      hasVideo: request.tracks.contains { $0.kind == .video },
                                      gopCacheLimitBytes: configuration.gopCacheLimitBytes, metrics: metrics,
                                      audioTrack: request.tracks.first { $0.kind == .audio }, transcoding: audioTranscoding, logger: logger)
            let stream = LiveStream(appID: login.appID, roomID: login.roomID, handle: handle, publisher: session, info: info, fanout: fanout)
            fanout.onKeyframeWanted = { [weak stream] in stream?.requestKeyframe() }
            fanoutBox.withLockedValue { $0 = fanout }
            stream.udpIngest = ingest
            streams[key] = stream
            room.streams[request.streamID] = stream
            room.streamOrder.append(request.streamID)
            session.published[request.streamID] = stream
            session.send(.result(ResultMessage(id: id, streamHandle: handle, sdp: answer)))
            notifyStreams(in: room, except: session, .add, [info])
            for player in waitingPlayers.removeValue(forKey: key) ?? [] {
                startPlaying(player, stream)
            }
            logger.info("publish", metadata: ["stream": "\(request.streamID)", "handle": "\(handle)", "user": "\(login.user.userID)"])
            return fanout
        }
    }

    func stopPublish(_ session: ServerSession, _ request: StreamRequest) {
        lock.withLock {
            guard let stream = ownStream(session, request.id, request.streamID) else { return }
            end(stream, reason: "publisher stopped")
            session.send(.result(ResultMessage(id: request.id ?? 0)))
        }
    }

    /// A play; its `sdp` (media over UDP) is not taken yet: the frames come on the connection either way.
    func play(_ session: ServerSession, _ request: PlayRequest) {
        lock.withLock {
            guard let login = session.login else {
                return session.send(.error(ErrorMessage(id: request.id, code: .notLoggedIn, message: "play needs a login first")))
            }
            if let problem = Identifier.problem(with: request.streamID, kind: .stream) {
                return session.send(.error(ErrorMessage(id: request.id, code: .invalidID, message: problem)))
            }
            let key = AppScoped(appID: login.appID, id: request.streamID)
            let live = streams[key]
            var answer: String?
            let streamID = request.streamID
            switch negotiatePlay(request.sdp, session: session, streamID: streamID, tracks: live?.info.tracks, keyframe: { [weak self] in
                self?.requestKeyframe(session, StreamRequest(id: nil, streamID: streamID))
            }, connected: { [weak self] in self?.restartDelivery(session, streamID: streamID) }) {
            case .none:
                // A play asked again without an offer (the client's UDP failed): its media comes on the connection.
                if session.setUDPPlay(request.streamID, nil), let live { restartDeliveryLocked(session, live) }
            case .accepted(let sdp, let udp):
                answer = sdp
                // A play asked again replaces its UDP session; delivery picks it up at its next start.
                session.setUDPPlay(request.streamID, udp)
                if let live { restartDeliveryLocked(session, live) }
            case .refused(let why):
                return session.refuse(request.id, .badRequest, why)
            }
            session.send(.result(ResultMessage(id: request.id ?? 0, sdp: answer)))
            guard !session.playing.contains(request.streamID) else { return }
            session.setPlayLayer(request.streamID, request.layer ?? .big)
            session.playing.insert(request.streamID)
            if let stream = streams[key] {
                startPlaying(session, stream)
            } else {
                waitingPlayers[key, default: []].append(session)
            }
        }
    }

    func stopPlay(_ session: ServerSession, _ request: StreamRequest) {
        lock.withLock {
            guard let login = session.login, session.playing.remove(request.streamID) != nil else {
                return session.send(.error(ErrorMessage(id: request.id, code: .streamNotFound, message: "this session does not play stream \"\(request.streamID)\"")))
            }
            let key = AppScoped(appID: login.appID, id: request.streamID)
            streams[key]?.fanout.remove(session)
            waitingPlayers[key]?.removeAll { $0 === session }
            session.setUDPPlay(request.streamID, nil)
            session.send(.result(ResultMessage(id: request.id ?? 0)))
        }
    }

    /// A player asks for a keyframe: the publisher of the stream is told (issue: keyframes on request).
    func requestKeyframe(_ session: ServerSession, _ request: StreamRequest) {
        lock.withLock {
            guard let login = session.login, let stream = streams[AppScoped(appID: login.appID, id: request.streamID)] else { return }
            stream.requestKeyframe()
        }
    }

    /// The connection closed (or failed): the session leaves its room.
    func disconnected(_ session: ServerSession) {
        lock.withLock {
            guard !session.ended else { return }
            session.ended = true
            if session.login != nil, configuration.reconnectGraceSeconds > 0, !shuttingDown,
               !session.endedByServer.withLockedValue({ $0 }) {
                detach(session)
            } else {
                leave(session, notifySelf: false)
            }
        }
    }

    /// Tells every session the server is going away.
    func shutdown() {
        lock.withLock {
            shuttingDown = true
            for session in users.values {
                session.end(.serverShutdown, reason: "the server is shutting down")
            }
        }
    }

    // MARK: rules (called under the lock)

    private func startPlaying(_ player: ServerSession, _ stream: LiveStream) {
        let layer = player.playLayer(stream.streamID)
        player.send(.playStarted(PlayStarted(streamID: stream.streamID, streamHandle: stream.handle, stream: stream.info.described(as: layer))))
        stream.fanout.add(player)
        // The cached GOP gets the player going at once; a fresh IDR soon lets it catch up with live.
        stream.requestKeyframe()
    }

    /// Ends a live stream: its players are told and wait for it to come back; the room sees it removed.
    private func end(_ stream: LiveStream, reason: String) {
        let key = AppScoped(appID: stream.appID, id: stream.streamID)
        streams[key] = nil
        stream.publisher.published[stream.streamID] = nil
        stream.fanout.close()
        stream.udpIngest = nil
        if let room = rooms[AppScoped(appID: stream.appID, id: stream.roomID)] {
            room.streams[stream.streamID] = nil
            room.streamOrder.removeAll { $0 == stream.streamID }
            notifyStreams(in: room, except: stream.publisher, .delete, [stream.info])
        }
        for session in users.values where session.playing.contains(stream.streamID) && session.login?.appID == stream.appID {
            session.send(.playStopped(PlayStopped(streamID: stream.streamID, reason: reason)))
            waitingPlayers[key, default: []].append(session)
        }
        logger.info("stream ended", metadata: ["stream": "\(stream.streamID)", "reason": "\(reason)"])
    }

    func leave(_ session: ServerSession, notifySelf: Bool) {
        guard let login = session.login else { return }
        cancelTokenTimers(session)
        session.detachedTimer?.cancel()
        session.detachedTimer = nil
        for stream in session.published.values { end(stream, reason: "publisher left") }
        for streamID in session.playing {
            let key = AppScoped(appID: login.appID, id: streamID)
            streams[key]?.fanout.remove(session)
            waitingPlayers[key]?.removeAll { $0 === session }
            if waitingPlayers[key]?.isEmpty == true { waitingPlayers[key] = nil }
        }
        session.playing.removeAll()
        session.closeUDPPlays()
        let roomKey = AppScoped(appID: login.appID, id: login.roomID)
        let userKey = AppScoped(appID: login.appID, id: login.user.userID)
        if users[userKey] === session { users[userKey] = nil }
        if let room = rooms[roomKey] {
            if room.members[login.user.userID] === session { room.members[login.user.userID] = nil }
            if room.members.isEmpty {
                rooms[roomKey] = nil
            } else {
                queueUserEvent(.delete, login.user, seq: takeUserEventSeq(), in: room, key: roomKey, loop: session.eventLoop)
            }
        }
        session.login = nil
        logger.info("left", metadata: ["room": "\(login.roomID)", "user": "\(login.user.userID)", "session": "\(session.id)"])
    }

    /// Sends one event to many sessions, encoded once.
    func send(_ message: ControlMessage, to members: some Sequence<ServerSession>) {
        var frame: ByteBuffer?
        for member in members {
            let encoded = frame ?? message.frame()
            frame = encoded
            member.send(encoded: encoded)
        }
    }

    func notifyStreams(in room: Room, except: ServerSession, _ type: UpdateType, _ list: [StreamInfo]) {
        notifyOthers(in: room, except: except, .roomStreamUpdate(RoomStreamUpdate(roomID: room.roomID, updateType: type, streams: list)))
    }

    /// Sends an event to every member of the room but one (its cause), after the user events waiting.
    func notifyOthers(in room: Room, except: ServerSession, _ message: ControlMessage) {
        flushUserEvents(room)
        send(message, to: room.members.values.lazy.filter { $0 !== except })
    }

    static func problem(with tracks: [TrackInfo]) -> String? {
        if tracks.isEmpty { return "a stream needs at least one track" }
        if tracks.filter({ $0.kind == .video }).count > 1 { return "a stream has at most one video track" }
        if tracks.filter({ $0.kind == .audio }).count > 1 { return "a stream has at most one audio track" }
        for t in tracks {
            switch (t.kind, t.codec) {
            case (.video, "h264"), (.audio, "aac"), (.audio, "opus"): continue
            default: return "unsupported \(t.kind) codec \"\(t.codec)\" (h264 video, aac or opus audio)"
            }
        }
        return nil
    }
}
