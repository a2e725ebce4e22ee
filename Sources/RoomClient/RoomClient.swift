import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RoomAuth
import RoomProtocol
import RTP

/// What a login returns: the session, and who and what is already in the room.
public struct LoginResult: Sendable {
    public var sessionID: String
    public var users: [UserInfo]
    public var streams: [StreamInfo]
    public var roomExtraInfo: [RoomExtraInfo]
    /// When the session's token expires (unix seconds), for token logins.
    public var tokenExpire: Int64?
    /// The scenario the server gives the room (its publishers default to it); nil when none, or one this
    /// client does not know.
    public var scenario: Scenario?
}

/// The client engine (the "SDK"): one login to one room, publishing and playing streams, reporting
/// room, user, stream, publisher and player events on `events`.
public final class RoomClient: Sendable {
    public let configuration: ClientConfiguration
    /// Events in the order they happened. Buffers the newest 4096 if nobody reads.
    public let events: AsyncStream<RoomEvent>
    let eventSink: AsyncStream<RoomEvent>.Continuation
    let state = NIOLockedValueBox(ClientState())
    let group: EventLoopGroup
    /// The client's own steps (connect, login, publish, play, reconnect attempts) at info, every event at debug.
    public let logger: Logger

    struct ClientState {
        var connection: RoomConnection?
        var roomID: String?
        var publishers: [String: StreamPublisher] = [:]
        var players: [String: MediaQueue] = [:]
        var playersByHandle: [UInt32: (streamID: String, queue: MediaQueue)] = [:]
        var ended: RoomClientError?
        var loggedOut = false
        var qualityTask: RepeatedTask?
        var trafficTask: RepeatedTask?
        /// The connection's tcpi_bytes_acked at the last traffic tick, and when (for the rate acknowledged).
        var lastAcked: (channel: ObjectIdentifier, bytes: UInt64, at: UInt64)?
        /// Link samples per published stream since the last network_quality event.
        var uplinkSamples: [String: [LinkSample]] = [:]
        var trafficTicks = 0
        /// The smallest capture-to-arrival latency seen per played stream (its path without queues), ms.
        var quietestLatency: [String: Double] = [:]
        var livenessTask: RepeatedTask?
        /// Bumped for each connection: inbound items of an older one are ignored.
        var generation = 0
        var lastInbound = NIODeadline.now()
        var sessionID: String?
        /// Which of `configuration.servers` the connection is to.
        var serverIndex = 0
        var userStatus = false
        /// Whether the login asked for room_sound_level_update (remote_sound_level_update events).
        var soundLevels = false
        /// The token to log in with again (the configured one, or the last renewal).
        var token: String?
        /// What each published stream was published with, to publish it again after a reconnect.
        var publishing: [String: (tracks: [TrackInfo], extraInfo: String?)] = [:]
        /// Media over UDP (RoomClient+UDP.swift): the client's DTLS certificate, each UDP play's socket, its
        /// handle once play_started came, and frames that came over UDP before it.
        var certificate: DTLSCertificate?
        var udpPlays: [String: UDPMediaSocket] = [:]
        var playHandles: [String: UInt32] = [:]
        var pendingUDPFrames: [String: [RTPFrame]] = [:]
        var reconnecting = false
        /// Totals at the last quality event, per "pub:"/"play:" + stream id.
        var lastQuality: [String: (counters: StreamCounters, at: NIODeadline)] = [:]
        var rttMs: Double?
        /// What each play asked of a layered stream, and the selectors of `auto` plays (RoomClient+Layers).
        var playLayerModes: [String: PlayLayer] = [:]
        var layerSelectors: [String: LayerSelector] = [:]
        /// Plays whose stream, as it started, is published in layers.
        var layeredPlays: Set<String> = []
        /// The camera and microphone state last reported per live stream of the room (RoomClient+DeviceState).
        var deviceStates: [String: [TrackKind: DeviceState]] = [:]

        mutating func stopTimers() {
            qualityTask?.cancel()
            qualityTask = nil
            trafficTask?.cancel()
            trafficTask = nil
            livenessTask?.cancel()
            livenessTask = nil
        }

        /// Forgets the handle(s) a stream's media arrived with: later frames of it are ignored.
        mutating func forgetHandles(of streamID: String) {
            playersByHandle = playersByHandle.filter { $0.value.streamID != streamID }
        }
    }

    public init(configuration: ClientConfiguration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "rtcbox.client", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: RoomEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// The round trip to the server from the last ping (sent with each quality tick).
    public var rttMs: Double? { state.withLockedValue { $0.rttMs } }

    /// What a published stream sent so far, if this client publishes it.
    public func publisherCounters(_ streamID: String) -> StreamCounters? {
        state.withLockedValue { $0.publishers[streamID] }?.counters
    }

    /// What a played stream received so far, if this client plays it.
    public func playerCounters(_ streamID: String) -> StreamCounters? {
        state.withLockedValue { $0.players[streamID] }?.counters
    }

    /// Why the session ended, once it has.
    public var endReason: RoomClientError? { state.withLockedValue { $0.ended } }

    // MARK: login / logout

    /// Connects and logs into `roomID`. Streams already live are reported as a room_stream_update "add"
    /// (and members as room_user_update "add" when `userStatus` is set), as the SDK does. `soundLevels`: report
    /// the sound level of every stream of the room (remote_sound_level_update) as its publisher measures it.
    public func login(roomID: String, userStatus: Bool, soundLevels: Bool = false) async throws -> LoginResult {
        emit(.roomState(roomID: roomID, state: .logining, errorCode: nil, reason: ""))
        do {
            let generation = state.withLockedValue { s -> Int in
                s.token = configuration.token
                s.userStatus = userStatus
                s.soundLevels = soundLevels
                s.roomID = roomID
                return s.generation
            }
            let connection = try await connectFirstAnswering(generation: generation)
            logger.debug("connected to \(currentServer), server \(connection.serverHello.details.software)")
            state.withLockedValue { $0.connection = connection }
            logger.info("logging in to room \(roomID) as user \(configuration.user.userID) (app \(configuration.appID), \(configuration.token != nil ? "token" : configuration.appSign != nil ? "app sign" : "no credentials"))")
            let result = try await sendLogin(on: connection, roomID: roomID, userStatus: userStatus, sessionID: nil)
            state.withLockedValue { $0.sessionID = result.sessionID }
            let login = LoginResult(sessionID: result.sessionID ?? "", users: result.users ?? [], streams: result.streams ?? [],
                                    roomExtraInfo: result.roomExtraInfo ?? [], tokenExpire: result.tokenExpire,
                                    scenario: result.scenario.flatMap(Scenario.init(rawValue:)))
            logger.info("logged in to room \(roomID): session \(login.sessionID), \(login.streams.count) live stream\(login.streams.count == 1 ? "" : "s")")
            emit(.roomState(roomID: roomID, state: .logined, errorCode: nil, reason: ""))
            if !login.users.isEmpty {
                emit(.roomUserUpdate(RoomUserUpdate(roomID: roomID, updateType: .add, users: login.users)))
            }
            if !login.streams.isEmpty {
                emitStreamUpdate(RoomStreamUpdate(roomID: roomID, updateType: .add, streams: login.streams))
            }
            if !login.roomExtraInfo.isEmpty {
                emit(.roomExtraInfoUpdate(RoomExtraInfoUpdate(roomID: roomID, extraInfo: login.roomExtraInfo)))
            }
            startQualityReports(on: connection)
            startLiveness(on: connection)
            return login
        } catch {
            let failure = error as? RoomClientError ?? .connectionLost("\(error)")
            logger.info("login to room \(roomID) failed: \(failure)")
            // The refusal is why the session ended: the connection closing after it must not replace it
            // (a "connection lost" exit 69 instead of the refusal's 77) nor report the end a second time.
            let first = state.withLockedValue { s -> Bool in
                defer { if s.ended == nil { s.ended = failure } }
                return s.ended == nil
            }
            if first {
                emit(.roomState(roomID: roomID, state: .disconnected, errorCode: failure.code, reason: failure.reason,
                                networkError: failure.networkFailure?.code))
            }
            close()
            eventSink.finish()
            throw failure
        }
    }

    /// Stops everything, logs out and closes the connection.
    public func logout() async {
        let (connection, roomID, publishers, players) = state.withLockedValue { s in
            s.loggedOut = true
            return (s.connection, s.roomID, Array(s.publishers.values), Array(s.players.keys))
        }
        guard let connection else { return close() }
        for p in publishers { try? await stopPublishing(p.streamID) }
        for streamID in players { try? await stopPlaying(streamID) }
        _ = try? await connection.request(timeoutSeconds: 2) { .logout(PlainRequest(id: $0)) }
        emit(.roomState(roomID: roomID ?? "", state: .logout, errorCode: nil, reason: ""))
        close()
    }

    public func close() {
        let connection = state.withLockedValue { s -> RoomConnection? in
            s.loggedOut = true
            s.stopTimers()
            return s.connection
        }
        if let connection {
            connection.close()  // its end (channelInactive) ends the events
        } else {
            eventSink.finish()  // never connected (an input that did not open): no events will come
        }
    }

    /// Sends a login (with the app sign signature for this connection's nonce) and waits for its result.
    /// The server the connection is to (or was last).
    var currentServer: ServerAddress {
        let servers = configuration.servers
        return servers[state.withLockedValue { $0.serverIndex } % servers.count]
    }

    /// A login's connection: the servers in order until one answers; the last refusal to connect when none does.
    private func connectFirstAnswering(generation: Int) async throws -> RoomConnection {
        let servers = configuration.servers
        var lastError: Error?
        for (index, server) in servers.enumerated() {
            logger.info("connecting to \(server)")
            do {
                let connection = try await RoomConnection.connect(configuration.aimed(at: server), group: group) { [weak self] inbound in
                    self?.handle(inbound, generation: generation)
                }
                state.withLockedValue { $0.serverIndex = index }
                return connection
            } catch let error as RoomClientError {
                guard case .unreachable = error, index < servers.count - 1 else { throw error }
                logger.info("\(server) did not answer (\(error.reason)); trying \(servers[index + 1])")
                lastError = error
            }
        }
        throw lastError ?? RoomClientError.connectionLost("no server to connect to")
    }

    func sendLogin(on connection: RoomConnection, roomID: String, userStatus: Bool, sessionID: String?) async throws -> ResultMessage {
        let config = configuration
        let (token, soundLevels) = state.withLockedValue { ($0.token, $0.soundLevels) }
        var signature: String?
        if let hex = config.appSign, token == nil {
            let sign: AppSign
            do { sign = try AppSign(hex: hex) } catch { throw RoomClientError.invalidCredentials("\(error)") }
            signature = sign.signature(nonce: connection.serverHello.details.nonce ?? "", appID: config.appID,
                                       userID: config.user.userID, roomID: roomID)
        }
        return try await connection.request(timeoutSeconds: config.requestTimeoutSeconds) { id in
            .login(LoginRequest(id: id, appID: config.appID, roomID: roomID, user: config.user, userStatus: userStatus,
                                token: token, signature: signature, sessionID: sessionID, soundLevels: soundLevels ? true : nil))
        }
    }

    // MARK: publish

    /// Starts publishing a stream with these tracks. Send its frames through the returned publisher.
    /// `trafficControl`: steer the encoder's video bit rate to what the uplink carries (see TrafficController).
    public func publish(streamID: String, tracks: [TrackInfo], extraInfo: String? = nil,
                        trafficControl: TrafficController.Settings? = nil) async throws -> StreamPublisher {
        let connection = try currentConnection()
        emit(.publisherState(streamID: streamID, state: .publishRequesting, errorCode: nil, reason: ""))
        let offer = publishOffer(tracks: tracks)
        do {
            let result = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) { id in
                .publish(PublishRequest(id: id, streamID: streamID, tracks: tracks, extraInfo: extraInfo,
                                        sdp: offer?.sessionDescription().serialized()))
            }
            guard let handle = result.streamHandle else {
                throw RoomClientError.protocolViolation("publish result without a stream handle")
            }
            let publisher = StreamPublisher(streamID: streamID, handle: handle, channel: connection.channel,
                                            tracks: tracks, trafficControl: trafficControl)
            publisher.onSoundLevel { [weak self] level in
                self?.emit(.capturedSoundLevelUpdate(streamID: streamID, level: SoundLevel.percent(dBov: level)))
            }
            state.withLockedValue {
                $0.publishers[streamID] = publisher
                $0.publishing[streamID] = (tracks, extraInfo)
            }
            emit(.publisherState(streamID: streamID, state: .publishing, errorCode: nil, reason: ""))
            await startUDP(publisher, offer: offer, answer: result.sdp)
            return publisher
        } catch let error as RoomClientError {
            emit(.publisherState(streamID: streamID, state: .noPublish, errorCode: error.code, reason: error.reason))
            throw error
        }
    }

    public func stopPublishing(_ streamID: String) async throws {
        guard let publisher = state.withLockedValue({ s -> StreamPublisher? in
            s.publishing[streamID] = nil
            return s.publishers.removeValue(forKey: streamID)
        }) else { return }
        publisher.markStopped()
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .stopPublish(StreamRequest(id: $0, streamID: streamID))
        }
        emit(.publisherState(streamID: streamID, state: .noPublish, errorCode: nil, reason: "stopped"))
    }

    // MARK: play

    /// Asks to play a stream. Its start, frames and end arrive in `queue`; if it is not live yet, the
    /// server starts it when it is published (a player_state play_requesting event until then).
    public func play(streamID: String, into queue: MediaQueue, layer: PlayLayer? = nil) async throws {
        let connection = try currentConnection()
        state.withLockedValue { s in
            s.players[streamID] = queue
            s.playLayerModes[streamID] = layer
            s.layerSelectors[streamID] = layer == .auto ? LayerSelector() : nil
        }
        let asked = requestedLayer(streamID)
        emit(.playerState(streamID: streamID, state: .playRequesting, errorCode: nil, reason: ""))
        let offer = playOffer()
        do {
            let result = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
                .play(PlayRequest(id: $0, streamID: streamID, sdp: offer?.sessionDescription().serialized(), layer: asked))
            }
            await startUDP(play: streamID, offer: offer, answer: result.sdp)
        } catch let error as RoomClientError {
            state.withLockedValue { $0.players[streamID] = nil }
            emit(.playerState(streamID: streamID, state: .noPlay, errorCode: error.code, reason: error.reason))
            throw error
        }
    }

    public func stopPlaying(_ streamID: String) async throws {
        guard state.withLockedValue({ s -> MediaQueue? in
            s.forgetHandles(of: streamID)
            s.playLayerModes[streamID] = nil
            s.layerSelectors[streamID] = nil
            return s.players.removeValue(forKey: streamID)
        }) != nil else { return }
        closeUDP(play: streamID)
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .stopPlay(StreamRequest(id: $0, streamID: streamID))
        }
        emit(.playerState(streamID: streamID, state: .noPlay, errorCode: nil, reason: "stopped"))
    }

    /// Asks the publisher of a stream for a keyframe.
    public func requestKeyframe(streamID: String) {
        state.withLockedValue { $0.connection }?.send(.requestKeyframe(StreamRequest(id: nil, streamID: streamID)))
    }

    // MARK: inbound

    func currentConnection() throws -> RoomConnection {
        try state.withLockedValue { s in
            if let ended = s.ended { throw ended }
            guard let c = s.connection else { throw RoomClientError.protocolViolation("not logged in") }
            return c
        }
    }

    func handle(_ inbound: ConnectionInbound, generation: Int) {
        let current = state.withLockedValue { s -> Bool in
            guard s.generation == generation else { return false }
            s.lastInbound = .now()
            return true
        }
        guard current else { return }
        switch inbound {
        case .media(let frame):
            let queue = state.withLockedValue { $0.playersByHandle[frame.header.streamHandle]?.queue }
            queue?.push(.frame(frame))
        case .event(let message):
            handleEvent(message)
        case .closed(let reason):
            if shouldReconnect(after: reason) {
                startReconnect(after: reason ?? .connectionLost("closed"))
            } else {
                sessionEnded(reason)
            }
        }
    }

    private func handleEvent(_ message: ControlMessage) {
        switch message {
        case .roomUserUpdate(let u): emit(.roomUserUpdate(u))
        case .roomStreamUpdate(let u): emitStreamUpdate(u)
        case .roomSoundLevelUpdate(let u):
            for level in u.levels { emit(.remoteSoundLevelUpdate(roomID: u.roomID, streamID: level.streamID, level: level.level)) }
        case .roomStreamStateUpdate(let u):
            for info in u.streams { noteDeviceStates(roomID: u.roomID, info) }
        case .playStarted(let p):
            let queue = state.withLockedValue { s -> MediaQueue? in
                guard let q = s.players[p.streamID] else { return nil }
                s.playersByHandle[p.streamHandle] = (p.streamID, q)
                if p.stream.isLayered { s.layeredPlays.insert(p.streamID) } else { s.layeredPlays.remove(p.streamID) }
                return q
            }
            guard let queue else { return }
            queue.push(.started(p.stream))
            flushPendingUDP(p.streamID, handle: p.streamHandle, queue: queue)
            emit(.playerState(streamID: p.streamID, state: .playing, errorCode: nil, reason: ""))
        case .playStopped(let p):
            let queue = state.withLockedValue { s -> MediaQueue? in
                s.forgetHandles(of: p.streamID)
                s.playHandles[p.streamID] = nil
                return s.players[p.streamID]
            }
            guard let queue else { return }
            queue.push(.stopped(reason: p.reason))
            emit(.playerState(streamID: p.streamID, state: .playRequesting, errorCode: nil, reason: p.reason))
        case .keyframeRequest(let r):
            state.withLockedValue { $0.publishers[r.streamID] }?.requestKeyframe()
        case .pong(let p):
            let now = StreamCounters.wallClock()
            if now >= p.time { state.withLockedValue { $0.rttMs = Double(now - p.time) / 1000 } }
        case .roomExtraInfoUpdate(let u): emit(.roomExtraInfoUpdate(u))
        case .roomStreamExtraInfoUpdate(let u): emit(.roomStreamExtraInfoUpdate(u))
        case .playFramesDropped(let d):
            state.withLockedValue { $0.playersByHandle[d.streamHandle]?.queue }?.noteUpstreamDrops(total: d.framesDropped)
        case .roomStreamTracksUpdate(let u):
            emit(.roomStreamTracksUpdate(u))
            for info in u.streams {
                guard let queue = state.withLockedValue({ $0.players[info.streamID] }) else { continue }
                queue.push(.tracksChanged(info))
                if let video = info.tracks.first(where: { $0.kind == .video }), let width = video.width, let height = video.height {
                    logger.info("play \(info.streamID): the publisher now sends \(width)x\(height)")
                    emit(.playerVideoSizeChanged(streamID: info.streamID, width: width, height: height, frameRate: video.frameRate))
                }
            }
        case .broadcastMessage(let m): emit(.broadcastMessage(m))
        case .customCommand(let c): emit(.customCommand(c))
        case .tokenWillExpire(let t): emit(.tokenWillExpire(t))
        case .sessionEnded(let s):
            sessionEnded(.sessionEnded(s))
        case .error(let e):
            sessionEnded(.refused(e))
        default:
            break
        }
    }

    func sessionEnded(_ reason: RoomClientError?) {
        let (first, roomID, queues, publishers, loggedOut) = state.withLockedValue { s in
            let first = s.ended == nil
            if first { s.ended = reason ?? .connectionLost("closed") }
            s.stopTimers()
            return (first, s.roomID, Array(s.players.values), Array(s.publishers.values), s.loggedOut)
        }
        guard first else { return }
        for p in publishers { p.markStopped() }
        closeAllUDP()
        for q in queues { q.push(.closed(loggedOut ? nil : reason)) }
        if !loggedOut {
            let code = reason?.code
            // The SDK reports a takeover and an expired token alike: kicked out, with the reason's code.
            var roomState: RoomState = code == .kickedOut || code == .tokenExpired ? .kickedOut : .disconnected
            if case .reconnectFailed? = reason { roomState = .reconnectFailed }
            emit(.roomState(roomID: roomID ?? "", state: roomState, errorCode: code, reason: reason?.reason ?? "",
                            networkError: reason?.networkFailure?.code))
        }
        eventSink.finish()
    }

    func emit(_ event: RoomEvent) {
        switch event {
        case .roomState(let room, let s, _, let reason, _):
            logger.info("room \(room): \(s.rawValue)\(reason.isEmpty ? "" : " (\(reason))")")
        case .publisherState(let stream, let s, _, let reason):
            logger.info("publish \(stream): \(s.rawValue)\(reason.isEmpty ? "" : " (\(reason))")")
        case .playerState(let stream, let s, _, let reason):
            logger.info("play \(stream): \(s.rawValue)\(reason.isEmpty ? "" : " (\(reason))")")
        default:
            logger.debug("event \(event.json())")
        }
        eventSink.yield(event)
    }
}
