import NIOCore
import RoomProtocol
import RoomRTP
import RTP

/// Media over UDP (docs/protocol.md, "Media over UDP"): a publish or play that carries an SDP offer gets an
/// RTP session on the server's UDP port, and the answer in its result. The room rules stay here and in
/// RoomRegistry; the session only moves frames (RTP knows no rooms).
extension RoomRegistry {
    /// What negotiating an offer gave: the answer's text and the session, or a refusal for the request.
    enum UDPNegotiation {
        /// No offer, or no UDP port on this server: media stays on the connection (the result has no sdp).
        case none
        case accepted(answer: String, session: UDPMediaListener.Session)
        case refused(String)
    }

    /// UDP sessions (publishes and plays) one login may hold: each has DTLS state, a packet cache and jitter
    /// buffers, so a login asking for thousands is refused rather than served (the port has its own cap).
    static let maxUDPSessions = 32

    private func udpSessionCount(_ session: ServerSession) -> Int {
        session.udpPlayCount + session.published.values.filter { $0.udpIngest != nil }.count
    }

    /// The server's side of a publisher's offer: its frames go to `fanout` once they arrive over UDP.
    func negotiatePublish(_ sdp: String?, session: ServerSession, streamID: String,
                          fanout: @escaping @Sendable () -> StreamFanout?) -> UDPNegotiation {
        guard let sdp, let udp = udpMedia else { return .none }
        guard udpSessionCount(session) < Self.maxUDPSessions else {
            return .refused("this login already has \(Self.maxUDPSessions) UDP media sessions")
        }
        do {
            let offer = try RTPMediaOffer(parsing: sdp)
            let answer = try RoomRTPOffers.answerPublish(offer, iceCredentials: .random(), fingerprint: udp.localFingerprint,
                                                         candidate: udp.candidate)
            let parameters = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
            let metrics = self.metrics
            let logger = self.logger
            let member = session
            let session = try udp.add(parameters, onFrames: { [weak self, weak member] frames in
                guard let target = fanout() else { return }
                for frame in frames {
                    let media = frame.mediaFrame(handle: target.handle)
                    var wire = ByteBuffer()
                    wire.reserveCapacity(media.payload.readableBytes + MediaFrameHeader.size + 5)
                    media.write(to: &wire)
                    metrics.mediaFramesIn.increment()
                    if let level = media.header.soundLevel, media.header.track == .audio, target.soundLevelChanged(level), let member {
                        self?.soundLevelChanged(member, handle: target.handle, dBov: level)
                    }
                    target.forward(CachedFrame(wire: wire, isVideo: media.header.track == .video,
                                               isKeyframe: media.header.isKeyframe, received: .now()))
                }
            }, onEvent: { [weak self, weak member] event in
                switch event {
                case .failed(let reason):
                    logger.info("UDP ingest ended", metadata: ["stream": "\(streamID)", "reason": "\(reason)"])
                    if let member { self?.mediaEnded(member, reason: "its WebRTC media failed: \(reason)") }
                case .closed:
                    if let member { self?.mediaEnded(member, reason: "its WebRTC peer closed the media session") }
                default:
                    break
                }
            })
            return .accepted(answer: answer.sessionDescription().serialized(), session: session)
        } catch {
            return .refused("the publish's sdp: \(error)")
        }
    }

    /// A UDP session of a WHIP/WHEP member ended (ICE consent lapsed, DTLS failed, the browser closed it):
    /// the member has no other media path, so its session ends and it leaves the room at once. A session of
    /// an rtcbox client is left alone (it falls back or offers again). Always through the session's loop: the
    /// event may come from inside a registry call that holds the lock (a stream ending closes its session).
    func mediaEnded(_ session: ServerSession, reason: String) {
        guard session.endsWithMedia else { return }
        session.eventLoop.execute { [self] in
            lock.withLock {
                guard session.login != nil else { return }
                leave(session, notifySelf: false)
                session.end(.sessionExpired, reason: reason)
            }
        }
    }

    /// A play's UDP session connected: what was delivered before went nowhere (the peer drops frames until
    /// it is connected), so delivery starts again, with the cached GOP.
    func restartDelivery(_ session: ServerSession, streamID: String) {
        lock.withLock {
            guard let login = session.login,
                  let stream = streams[AppScoped(appID: login.appID, id: streamID)] else { return }
            restartDeliveryLocked(session, stream)
        }
    }

    /// Starts a live stream's delivery to a player of it again (its UDP session changed): from a keyframe,
    /// with the cached GOP, on whichever path the session now has. Called under the lock.
    func restartDeliveryLocked(_ session: ServerSession, _ stream: LiveStream) {
        guard session.playing.contains(stream.streamID) else { return }
        stream.fanout.remove(session)
        stream.fanout.add(session)
    }

    /// The server's side of a player's offer. `tracks`: the stream's, when it is live.
    func negotiatePlay(_ sdp: String?, session: ServerSession, streamID: String, tracks: [TrackInfo]?,
                       keyframe: @escaping @Sendable () -> Void, connected: @escaping @Sendable () -> Void) -> UDPNegotiation {
        guard let sdp, let udp = udpMedia else { return .none }
        guard udpSessionCount(session) < Self.maxUDPSessions else {
            return .refused("this login already has \(Self.maxUDPSessions) UDP media sessions")
        }
        do {
            let offer = try RTPMediaOffer(parsing: sdp)
            let answer = try RoomRTPOffers.answerPlay(offer, streamTracks: tracks, opusFromAAC: audioTranscoding != nil,
                                                      iceCredentials: .random(),
                                                      fingerprint: udp.localFingerprint, candidate: udp.candidate)
            let parameters = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
            let logger = self.logger
            let member = session
            let session = try udp.add(parameters, onFrames: { _ in }, onEvent: { [weak self, weak member] event in
                switch event {
                case .connected: connected()
                case .keyframeRequested: keyframe()
                case .failed(let reason):
                    logger.info("UDP play ended", metadata: ["stream": "\(streamID)", "reason": "\(reason)"])
                    if let member { self?.mediaEnded(member, reason: "its WebRTC media failed: \(reason)") }
                case .closed:
                    if let member { self?.mediaEnded(member, reason: "its WebRTC peer closed the media session") }
                default: break
                }
            })
            return .accepted(answer: answer.sessionDescription().serialized(), session: session)
        } catch {
            return .refused("the play's sdp: \(error)")
        }
    }
}
