import RoomProtocol

/// What a member does in a room besides streams: extra info, messages, commands, token renewal.
extension RoomClient {
    /// Sets one key of the room's extra info; the other members get a room_extra_info_update.
    public func setRoomExtraInfo(key: String, value: String) async throws {
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .setRoomExtraInfo(SetRoomExtraInfo(id: $0, key: key, value: value))
        }
    }

    /// Changes the extra info of a stream this client publishes.
    public func setStreamExtraInfo(streamID: String, extraInfo: String) async throws {
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .setStreamExtraInfo(SetStreamExtraInfo(id: $0, streamID: streamID, extraInfo: extraInfo))
        }
    }

    /// Describes a stream this client publishes anew and waits for the server's answer (the same tracks, new
    /// figures). A publisher's encoder uses `StreamPublisher.updateVideoTrack` instead, which does not wait
    /// and is ordered with its frames.
    public func setStreamTracks(streamID: String, tracks: [TrackInfo]) async throws {
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .setStreamTracks(SetStreamTracks(id: $0, streamID: streamID, tracks: tracks))
        }
    }

    /// Mutes or unmutes the camera (video) or microphone (audio) of a stream this client publishes: a muted
    /// track's frames are not sent, the stream stays published, and every other member gets
    /// remote_camera_state_update / remote_mic_state_update. The frames stop (or resume) at once; the call
    /// returns when the server has the new state.
    public func setMuted(streamID: String, _ kind: TrackKind, _ muted: Bool) async throws {
        guard let publisher = state.withLockedValue({ $0.publishers[streamID] }) else {
            throw RoomClientError.refused(ErrorMessage(id: nil, code: .streamNotFound, message: "this client does not publish stream \"\(streamID)\""))
        }
        guard publisher.tracks.contains(where: { $0.kind == kind }) else {
            throw RoomClientError.refused(ErrorMessage(id: nil, code: .badRequest, message: "stream \"\(streamID)\" has no \(kind) track to \(muted ? "mute" : "unmute")"))
        }
        publisher.setMuted(kind, muted)
        let connection = try currentConnection()
        let now = StreamInfo.normalizedMuted(publisher.muted) ?? []
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .setStreamMuted(SetStreamMuted(id: $0, streamID: streamID, muted: now))
        }
    }

    /// Sends a text to every other member of the room; returns its message id.
    @discardableResult
    public func sendBroadcastMessage(_ message: String) async throws -> UInt64 {
        let connection = try currentConnection()
        let result = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .sendBroadcastMessage(SendBroadcastMessage(id: $0, message: message))
        }
        return result.messageID ?? 0
    }

    /// Sends a text to the listed members of the room.
    public func sendCustomCommand(_ command: String, to userIDs: [String]) async throws {
        let connection = try currentConnection()
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .sendCustomCommand(SendCustomCommand(id: $0, toUserIDs: userIDs, command: command))
        }
    }

    /// Replaces the session's token (after token_will_expire) without logging in again; returns its expiry.
    @discardableResult
    public func renewToken(_ token: String) async throws -> Int64? {
        let connection = try currentConnection()
        let result = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .renewToken(RenewToken(id: $0, token: token))
        }
        state.withLockedValue { $0.token = token }
        return result.tokenExpire
    }
}
