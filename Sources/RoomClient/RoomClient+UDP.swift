import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol
import RoomRTP
import RTP

/// How a client's publishes and plays carry their media.
public enum MediaTransport: String, Sendable, CaseIterable, CustomStringConvertible {
    /// UDP when the server offers it and its checks are answered within 2 s, else TCP.
    case auto
    /// UDP only: media that cannot go over UDP is not sent.
    case udp
    /// The room connection (TCP), as before UDP existed.
    case tcp

    public var description: String { rawValue }
}

/// Media over UDP (docs/protocol.md, "Media over UDP"): the offers a publish or play carries, the RTP
/// session its answer starts, and the switch between UDP and the room connection. Signalling stays on the
/// room connection; `media_transport` events say which way each stream's media goes.
extension RoomClient {
    /// The client's DTLS certificate, made at the first offer (an EC key: a millisecond).
    func dtlsCertificate() throws -> DTLSCertificate {
        if let c = state.withLockedValue({ $0.certificate }) { return c }
        let made = try DTLSCertificate()
        return state.withLockedValue { s in
            if let c = s.certificate { return c }
            s.certificate = made
            return made
        }
    }

    /// A publish's offer (nil with `--transport tcp`, or when no certificate could be made).
    func publishOffer(tracks: [TrackInfo]) -> RTPMediaOffer? {
        guard configuration.mediaTransport != .tcp, let certificate = try? dtlsCertificate() else { return nil }
        // Layers travel on the connection: one RTP video track carries one layer.
        guard !tracks.contains(where: { ($0.layers?.count ?? 0) > 1 }) else { return nil }
        let offer = RoomRTPOffers.publishOffer(tracks: tracks, iceCredentials: .random(), fingerprint: certificate.fingerprint)
        return offer.media.isEmpty ? nil : offer
    }

    func playOffer() -> RTPMediaOffer? {
        guard configuration.mediaTransport != .tcp, let certificate = try? dtlsCertificate() else { return nil }
        return RoomRTPOffers.playOffer(iceCredentials: .random(), fingerprint: certificate.fingerprint)
    }

    /// Why UDP cannot be used with this answer, in words.
    struct NoUDP: Error { var reason: String }

    /// The peer's parameters from the answer, or why UDP cannot be used with it.
    private func parameters(offer: RTPMediaOffer, answer: String?) -> Result<RTPPeerParameters, NoUDP> {
        guard let answer else { return .failure(NoUDP(reason: "the server takes no media over UDP (it needs serve --udp)")) }
        do {
            let remote = try RTPMediaOffer(parsing: answer)
            return .success(try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: remote))
        } catch {
            return .failure(NoUDP(reason: "the server's sdp answer: \(error)"))
        }
    }

    /// After a publish's result: its media goes over UDP once the session connects. Without an answer, or
    /// when UDP fails, it stays on (or goes back to) the room connection, unless UDP is required.
    func startUDP(_ publisher: StreamPublisher, offer: RTPMediaOffer?, answer: String?) async {
        guard let offer else { return mediaTransport(publisher.streamID, .publisher, "tcp", reason: "transport tcp") }
        let required = configuration.mediaTransport == .udp
        let parameters: RTPPeerParameters
        switch self.parameters(offer: offer, answer: answer) {
        case .success(let p): parameters = p
        case .failure(let why):
            if required { publisher.markUDPUnavailable() }
            return mediaTransport(publisher.streamID, .publisher, required ? "none" : "tcp", reason: why.reason)
        }
        let streamID = publisher.streamID
        let socketBox = NIOLockedValueBox<UDPMediaSocket?>(nil)
        do {
            let peerConfiguration = RTPPeer.Configuration.publishing(publisher.tracks)
            let socket = try await UDPMediaSocket.open(
                parameters: parameters, certificate: try dtlsCertificate(), group: group, configuration: peerConfiguration,
                start: false, onFrames: { _ in },
                onEvent: { [weak self, weak publisher] event in
                    guard let self, let publisher, let socket = socketBox.withLockedValue({ $0 }) else { return }
                    switch event {
                    case .connected:
                        publisher.udpChanged(socket, connected: true)
                        self.mediaTransport(streamID, .publisher, "udp", reason: "connected to \(parameters.remoteAddress.map { "\($0)" } ?? "?")")
                    case .failed(let reason):
                        publisher.udpChanged(socket, connected: false)
                        self.mediaTransport(streamID, .publisher, required ? "none" : "tcp", reason: reason)
                    case .keyframeRequested:
                        publisher.requestKeyframe()
                    case .targetBitrate, .selectedAddress, .closed:
                        break
                    }
                })
            socketBox.withLockedValue { $0 = socket }
            publisher.attachUDP(socket, required: required)
            socket.start()
            logger.info("publish: UDP session started", metadata: ["stream": "\(streamID)", "server": "\(parameters.remoteAddress.map { "\($0)" } ?? "?")"])
        } catch {
            if required { publisher.markUDPUnavailable() }
            mediaTransport(streamID, .publisher, required ? "none" : "tcp", reason: "UDP socket: \(error)")
        }
    }

    /// After a play's result: its frames come over UDP once the session connects. When UDP fails (auto), the
    /// play is asked again without an offer and the frames come on the room connection.
    func startUDP(play streamID: String, offer: RTPMediaOffer?, answer: String?) async {
        guard let offer else { return mediaTransport(streamID, .player, "tcp", reason: "transport tcp") }
        let required = configuration.mediaTransport == .udp
        let parameters: RTPPeerParameters
        switch self.parameters(offer: offer, answer: answer) {
        case .success(let p): parameters = p
        case .failure(let why):
            return mediaTransport(streamID, .player, required ? "none" : "tcp", reason: why.reason)
        }
        let socketBox = NIOLockedValueBox<UDPMediaSocket?>(nil)
        do {
            let socket = try await UDPMediaSocket.open(
                parameters: parameters, certificate: try dtlsCertificate(), group: group, start: false,
                onFrames: { [weak self] frames in self?.receivedUDP(frames, streamID: streamID, socket: socketBox.withLockedValue { $0 }) },
                onEvent: { [weak self] event in
                    guard let self, let socket = socketBox.withLockedValue({ $0 }) else { return }
                    switch event {
                    case .connected:
                        guard self.state.withLockedValue({ $0.udpPlays[streamID] === socket }) else { return }
                        self.mediaTransport(streamID, .player, "udp", reason: "connected to \(parameters.remoteAddress.map { "\($0)" } ?? "?")")
                    case .failed(let reason):
                        let current = self.state.withLockedValue { s -> Bool in
                            guard s.udpPlays[streamID] === socket else { return false }
                            s.udpPlays[streamID] = nil
                            return true
                        }
                        socket.close()
                        guard current else { return }
                        self.mediaTransport(streamID, .player, required ? "none" : "tcp", reason: reason)
                        if !required { self.replayOverTCP(streamID) }
                    case .keyframeRequested, .targetBitrate, .selectedAddress, .closed:
                        break
                    }
                })
            socketBox.withLockedValue { $0 = socket }
            let old = state.withLockedValue { s -> UDPMediaSocket? in
                defer { s.udpPlays[streamID] = socket }
                return s.udpPlays[streamID]
            }
            old?.close()
            socket.start()
        } catch {
            mediaTransport(streamID, .player, required ? "none" : "tcp", reason: "UDP socket: \(error)")
            if !required { replayOverTCP(streamID) }
        }
    }

    /// Frames of a play that came over UDP, into its queue as the room connection's would go. Frames that
    /// come before the play_started (UDP can overtake TCP) wait for it, at most `pendingLimit`.
    func receivedUDP(_ frames: [RTPFrame], streamID: String, socket: UDPMediaSocket?) {
        let target = state.withLockedValue { s -> (UInt32, MediaQueue)? in
            guard let socket, s.udpPlays[streamID] === socket else { return nil }
            if let handle = s.playHandles[streamID], let queue = s.players[streamID] { return (handle, queue) }
            var pending = s.pendingUDPFrames[streamID] ?? []
            pending.append(contentsOf: frames)
            if pending.count > Self.pendingLimit { pending.removeFirst(pending.count - Self.pendingLimit) }
            s.pendingUDPFrames[streamID] = pending
            return nil
        }
        guard let (handle, queue) = target else { return }
        for frame in frames { queue.push(.frame(frame.mediaFrame(handle: handle))) }
    }

    static let pendingLimit = 256

    /// play_started came: frames that came over UDP before it go into the queue after it.
    func flushPendingUDP(_ streamID: String, handle: UInt32, queue: MediaQueue) {
        let pending = state.withLockedValue { s -> [RTPFrame] in
            s.playHandles[streamID] = handle
            return s.pendingUDPFrames.removeValue(forKey: streamID) ?? []
        }
        for frame in pending { queue.push(.frame(frame.mediaFrame(handle: handle))) }
    }

    /// Asks the server to send a play's media on the room connection (a play without an offer replaces it).
    private func replayOverTCP(_ streamID: String) {
        guard let connection = state.withLockedValue({ $0.connection }) else { return }
        let timeout = configuration.requestTimeoutSeconds
        Task {
            _ = try? await connection.request(timeoutSeconds: timeout) { .play(PlayRequest(id: $0, streamID: streamID)) }
        }
    }

    /// Ends a play's UDP session, if it has one.
    func closeUDP(play streamID: String) {
        let socket = state.withLockedValue { s -> UDPMediaSocket? in
            s.pendingUDPFrames[streamID] = nil
            s.playHandles[streamID] = nil
            return s.udpPlays.removeValue(forKey: streamID)
        }
        socket?.close()
    }

    func closeAllUDP() {
        let sockets = state.withLockedValue { s -> [UDPMediaSocket] in
            defer { s.udpPlays.removeAll(); s.pendingUDPFrames.removeAll(); s.playHandles.removeAll() }
            return Array(s.udpPlays.values)
        }
        for socket in sockets { socket.close() }
    }

    enum MediaRole: String { case publisher, player }

    func mediaTransport(_ streamID: String, _ role: MediaRole, _ transport: String, reason: String) {
        logger.info("media transport", metadata: ["stream": "\(streamID)", "role": "\(role.rawValue)", "transport": "\(transport)", "reason": "\(reason)"])
        emit(.mediaTransport(streamID: streamID, role: role.rawValue, transport: transport, reason: reason))
    }
}

extension RTPPeer.Configuration {
    /// A publisher's peer: the bandwidth estimate starts at what the stream sends (the estimator then finds the
    /// path's). From the default start the pacer, at 2.5x the estimate, would drop a 720p stream's first frames.
    static func publishing(_ tracks: [TrackInfo]) -> RTPPeer.Configuration {
        var configuration = RTPPeer.Configuration()
        let streamRate = tracks.compactMap(\.bitRate).reduce(0, +)
        if streamRate > 0 {
            configuration.bandwidth = BandwidthEstimator.Configuration(
                minBitrate: 50_000, maxBitrate: Int64(max(streamRate * 2, 1_000_000)), startBitrate: Int64(streamRate) * 11 / 10)
        }
        return configuration
    }
}
