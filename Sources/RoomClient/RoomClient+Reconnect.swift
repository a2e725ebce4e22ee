import Foundation
import NIOCore
import RoomProtocol

/// Network interruptions: a ping every second tells a dead connection from a quiet one; a lost connection is
/// re-established with backoff, the session resumed (the server keeps it for a grace period), streams
/// published and played again, and every step reported (reconnecting, reconnected or reconnect_failed).
extension RoomClient {
    func startLiveness(on connection: RoomConnection) {
        let dead = TimeAmount.milliseconds(Int64(configuration.deadConnectionSeconds * 1000))
        let task = connection.channel.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            guard let self else { return }
            connection.send(.ping(Ping(id: 0, time: StreamCounters.wallClock())))
            let quiet = self.state.withLockedValue { NIODeadline.now() - $0.lastInbound }
            if quiet > dead { connection.close() }  // channelInactive then reports it lost
        }
        state.withLockedValue {
            $0.lastInbound = .now()
            $0.livenessTask = task
        }
        connection.send(.ping(Ping(id: 0, time: StreamCounters.wallClock())))  // an rtt right away
    }

    /// Lost connections are retried; what the server decided (kicked out, token expired, shutdown, refusals) is final.
    func shouldReconnect(after reason: RoomClientError?) -> Bool {
        guard configuration.reconnectTimeoutSeconds > 0 else { return false }
        let (loggedOut, ended, started) = state.withLockedValue { ($0.loggedOut, $0.ended, $0.sessionID != nil) }
        guard !loggedOut, ended == nil, started else { return false }
        switch reason {
        case .connectionLost?, .timedOut?, nil: return true
        default: return false
        }
    }

    func startReconnect(after reason: RoomClientError) {
        let begun = state.withLockedValue { s -> (String, [StreamPublisher], [String])? in
            guard !s.reconnecting, s.ended == nil, !s.loggedOut else { return nil }
            s.reconnecting = true
            s.generation += 1
            s.stopTimers()
            s.playersByHandle.removeAll()
            return (s.roomID ?? "", Array(s.publishers.values), Array(s.players.keys))
        }
        guard let (roomID, publishers, players) = begun else { return }
        for p in publishers { p.suspend() }
        emit(.roomState(roomID: roomID, state: .reconnecting, errorCode: reason.code, reason: reason.reason,
                        networkError: reason.networkFailure?.code))
        for p in publishers.sorted(by: { $0.streamID < $1.streamID }) {
            emit(.publisherState(streamID: p.streamID, state: .publishRequesting, errorCode: nil, reason: "reconnecting"))
        }
        for id in players.sorted() {
            emit(.playerState(streamID: id, state: .playRequesting, errorCode: nil, reason: "reconnecting"))
        }
        Task { await self.reconnectLoop(roomID: roomID, firstReason: reason) }
    }

    /// Attempts with backoff until one succeeds or the whole reconnect timeout has passed: the last wait is cut
    /// to what is left and one more attempt is made at the deadline. The give-up says how long it really tried.
    private func reconnectLoop(roomID: String, firstReason: RoomClientError) async {
        let started = Date()
        let deadline = started.addingTimeInterval(configuration.reconnectTimeoutSeconds)
        var delay = 0.2
        var lastError: RoomClientError = firstReason
        var attempts = 0
        let firstServer = state.withLockedValue { $0.serverIndex }
        while true {
            if state.withLockedValue({ $0.loggedOut || $0.ended != nil }) { return }
            attempts += 1
            // The server it had first, then (with --server a,b,...) the others in turn, one per attempt.
            let servers = configuration.servers
            let index = (firstServer + attempts - 1) % servers.count
            logger.info("reconnect attempt \(attempts) to \(servers[index]), \(String(format: "%.1f", max(0, deadline.timeIntervalSinceNow))) s left")
            do {
                let resumed = try await reestablish(roomID: roomID, server: index)
                emit(.roomState(roomID: roomID, state: .reconnected, errorCode: nil,
                                reason: resumed ? "session resumed after \(attempts) attempt\(attempts == 1 ? "" : "s")"
                                                : "logged in again after \(attempts) attempt\(attempts == 1 ? "" : "s")"))
                return
            } catch let error as RoomClientError {
                lastError = error
                logger.info("reconnect attempt \(attempts) failed: \(error)")
                if case .refused(let e) = error, let code = e.errorCode, Self.finalRefusals.contains(code) {
                    sessionEnded(error)
                    return
                }
            } catch {
                lastError = .connectionLost("\(error)")
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                let tried = String(format: "%.1f", Date().timeIntervalSince(started))
                sessionEnded(.reconnectFailed("\(attempts) attempt\(attempts == 1 ? "" : "s") in \(tried) s, the last: \(lastError.reason)",
                                              lastError.networkFailure))
                return
            }
            try? await Task.sleep(for: .milliseconds(Int(min(delay, remaining) * 1000)))
            delay = min(delay * 2, 2)
        }
    }

    /// Refusals that another attempt cannot change.
    static let finalRefusals: Set<RoomErrorCode> = [.tokenInvalid, .tokenExpired, .noPrivilege, .appNotFound, .invalidID,
                                                     .kickedOut, .duplicateStream, .roomFull]

    /// One attempt: connect, log in with the session id (resumed if the server still has it), publish and
    /// play again. Returns whether the server resumed the session.
    private func reestablish(roomID: String, server index: Int) async throws -> Bool {
        let (generation, sessionID, userStatus) = state.withLockedValue { ($0.generation, $0.sessionID, $0.userStatus) }
        let servers = configuration.servers
        let connection = try await RoomConnection.connect(configuration.aimed(at: servers[index % servers.count]), group: group) { [weak self] inbound in
            self?.handle(inbound, generation: generation)
        }
        state.withLockedValue { $0.serverIndex = index % servers.count }
        do {
            let result = try await sendLogin(on: connection, roomID: roomID, userStatus: userStatus, sessionID: sessionID)
            let (publishers, publishing, players) = state.withLockedValue { s in
                s.connection = connection
                s.sessionID = result.sessionID ?? s.sessionID
                return (s.publishers, s.publishing, Array(s.players.keys))
            }
            for (id, publisher) in publishers.sorted(by: { $0.key < $1.key }) {
                guard let info = publishing[id] else { continue }
                let offer = publishOffer(tracks: publisher.tracks)
                let r = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
                    .publish(PublishRequest(id: $0, streamID: id, tracks: publisher.tracks, extraInfo: info.extraInfo,
                                            sdp: offer?.sessionDescription().serialized(),
                                            muted: StreamInfo.normalizedMuted(publisher.muted)))
                }
                guard let handle = r.streamHandle else { throw RoomClientError.protocolViolation("publish result without a stream handle") }
                publisher.rebind(channel: connection.channel, handle: handle)
                emit(.publisherState(streamID: id, state: .publishing, errorCode: nil, reason: "reconnected"))
                await startUDP(publisher, offer: offer, answer: r.sdp)
            }
            for id in players.sorted() {
                closeUDP(play: id)
                let offer = playOffer()
                let r = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
                    .play(PlayRequest(id: $0, streamID: id, sdp: offer?.sessionDescription().serialized(), layer: requestedLayer(id)))
                }
                await startUDP(play: id, offer: offer, answer: r.sdp)
            }
            state.withLockedValue { $0.reconnecting = false }
            startQualityReports(on: connection)
            startLiveness(on: connection)
            return result.resumed == true
        } catch {
            connection.close()
            throw error
        }
    }
}
