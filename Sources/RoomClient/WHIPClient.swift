import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import RoomProtocol
import RoomRTP
import RTP

/// rtcbox as a client of any WHIP (RFC 9725) or WHEP server, without a room: the offer POSTed to the
/// endpoint, the answer's session on a UDP socket of its own (this side sends the ICE checks, controlling, and
/// is the DTLS client), `DELETE` on the session's `Location` at the end. The same offers as a room publish or
/// play (`RoomRTPOffers`), so rtcbox's extensions ride along where the server keeps them and are ignored where not.
public final class WHIPClient: Sendable {
    public enum Kind: Sendable {
        /// WHIP: these tracks are sent.
        case publish([TrackInfo])
        /// WHEP: video and audio are received into the queue (a `started` item with the tracks of the answer,
        /// the frames, and `closed` when the session ends).
        case play(MediaQueue)
    }

    public let endpoint: String
    /// The session's URL (the answer's Location, resolved against the endpoint); nil when the server gave none.
    public let resource: String?
    /// The server's UDP address the session connected to.
    public let remote: String
    private let socket: UDPMediaSocket
    private let bearer: String?
    private let trust: WHIPTrust
    private let group: EventLoopGroup
    private let keyframeWanted: NIOLockedValueBox<Bool>
    private let closed = NIOLockedValueBox(false)
    private let traffic = NIOLockedValueBox(Traffic())

    /// Traffic control of a publish: the RTP session's figures steer the encoder as a room publish's do.
    struct Traffic {
        var controller: TrafficController?
        var meter = RTPLinkMeter()
        var lastAt: UInt64?
        var task: RepeatedTask?
        var configuredVideo: TrackInfo?
    }

    private init(endpoint: String, resource: String?, remote: String, socket: UDPMediaSocket, bearer: String?, trust: WHIPTrust,
                 group: EventLoopGroup, keyframeWanted: NIOLockedValueBox<Bool>) {
        self.trust = trust
        self.endpoint = endpoint
        self.resource = resource
        self.remote = remote
        self.socket = socket
        self.bearer = bearer
        self.group = group
        self.keyframeWanted = keyframeWanted
    }

    /// Offers, posts, connects. Returns once the media session is connected (ICE and DTLS done), or throws:
    /// `RoomClientError.refused` with the server's reason for a 4xx/5xx (a room error's name when the body
    /// starts with one, as rtcbox's does), `.timedOut` when the checks got no answer in `connectSeconds`.
    ///
    /// A publish with `trafficControl` lowers and raises its video bit rate (and layer) from the session's
    /// bandwidth estimate, pacer and feedback every `trafficIntervalSeconds`, as a room publish over UDP does;
    /// each step is a `TrafficControlReport` (stream id "whip") to `onTrafficControl`.
    public static func start(_ kind: Kind, endpoint: String, bearer: String?, trust: WHIPTrust = .system, group: EventLoopGroup,
                             connectSeconds: Double = 10,
                             trafficControl: TrafficController.Settings? = nil, trafficIntervalSeconds: Double = 0.5,
                             onFrames: @escaping @Sendable ([RTPFrame]) -> Void = { _ in },
                             onEvent: @escaping @Sendable (RTPPeerEvent) -> Void = { _ in },
                             onTrafficControl: @escaping @Sendable (TrafficControlReport) -> Void = { _ in }) async throws -> WHIPClient {
        let certificate = try DTLSCertificate()
        let offer: RTPMediaOffer
        switch kind {
        case .publish(let tracks):
            offer = RoomRTPOffers.publishOffer(tracks: tracks, iceCredentials: .random(), fingerprint: certificate.fingerprint)
            guard !offer.media.isEmpty else {
                throw RoomClientError.refused(ErrorMessage(id: nil, code: .badRequest, message: "no track can go over WebRTC (H.264, AAC or Opus)"))
            }
        case .play:
            offer = RoomRTPOffers.playOffer(iceCredentials: .random(), fingerprint: certificate.fingerprint)
        }
        let response = try await WHIPSignaling.request(.POST, url: endpoint, body: offer.sessionDescription().serialized(),
                                                       contentType: "application/sdp", bearer: bearer, trust: trust, group: group)
        guard response.status == 201 || response.status == 200 else { throw refusal(response) }
        let parameters: RTPPeerParameters
        do {
            let answer = try RTPMediaOffer(parsing: response.body)
            parameters = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: answer)
        } catch {
            throw RoomClientError.protocolViolation("the server's SDP answer: \(error)")
        }
        var onFrames = onFrames
        var onEvent = onEvent
        if case .play(let queue) = kind {
            let tracks = parameters.receiveTracks.map { TrackInfo($0.codec) }
            queue.push(.started(StreamInfo(streamID: "whep", user: UserInfo(userID: "whep", userName: "whep"), extraInfo: "", tracks: tracks)))
            let frames = onFrames, events = onEvent
            onFrames = { batch in
                for frame in batch { queue.push(.frame(frame.mediaFrame(handle: 0))) }
                frames(batch)
            }
            onEvent = { event in
                switch event {
                case .failed(let reason): queue.push(.closed(.connectionLost("the WHEP session failed: \(reason)")))
                case .closed:
                    queue.push(.stopped(reason: "the WHEP session ended"))
                    queue.push(.closed(nil))
                default: break
                }
                events(event)
            }
        }
        let deliver = onFrames, tell = onEvent
        let resource = response.header("Location").flatMap { URL(string: $0, relativeTo: URL(string: endpoint))?.absoluteString }
        let connected = group.next().makePromise(of: Void.self)
        let settled = NIOLockedValueBox(false)
        let keyframeWanted = NIOLockedValueBox(false)
        var configuration = RTPPeer.Configuration()
        if case .publish(let tracks) = kind { configuration = .publishing(tracks) }
        let socket = try await UDPMediaSocket.open(parameters: parameters, certificate: certificate, group: group,
                                                   configuration: configuration, onFrames: deliver, onEvent: { event in
                                                       switch event {
                                                       case .connected:
                                                           if settled.withLockedValue({ s in defer { s = true }; return !s }) { connected.succeed() }
                                                       case .failed(let reason):
                                                           if settled.withLockedValue({ s in defer { s = true }; return !s }) {
                                                               connected.fail(RoomClientError.connectionLost("the WebRTC session failed: \(reason)"))
                                                           }
                                                       case .keyframeRequested:
                                                           keyframeWanted.withLockedValue { $0 = true }
                                                       default:
                                                           break
                                                       }
                                                       tell(event)
                                                   })
        let client = WHIPClient(endpoint: endpoint, resource: resource, remote: parameters.remoteAddress.map { "\($0)" } ?? "?",
                                socket: socket, bearer: bearer, trust: trust, group: group, keyframeWanted: keyframeWanted)
        do {
            try await withTimeout(seconds: connectSeconds, on: connected.futureResult.eventLoop, connected.futureResult,
                                  what: "the WebRTC session's ICE checks and DTLS handshake with \(client.remote)")
        } catch {
            await client.close()
            throw error
        }
        if case .publish(let tracks) = kind, let trafficControl, trafficIntervalSeconds > 0 {
            client.startTrafficControl(trafficControl, video: tracks.first { $0.kind == .video }, every: trafficIntervalSeconds,
                                       report: onTrafficControl)
        }
        return client
    }

    private func startTrafficControl(_ settings: TrafficController.Settings, video: TrackInfo?, every seconds: Double,
                                     report: @escaping @Sendable (TrafficControlReport) -> Void) {
        let amount = TimeAmount.milliseconds(Int64(seconds * 1000))
        traffic.withLockedValue { t in
            t.controller = TrafficController(settings: settings)
            t.configuredVideo = video
            t.lastAt = NIODeadline.now().uptimeNanoseconds
            t.task = group.next().scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
                if let step = self?.trafficTick() { report(step) }
            }
        }
    }

    /// One step: the session's figures since the last one into the controller.
    private func trafficTick() -> TrafficControlReport? {
        let statistics = socket.driver.peerStatistics
        let now = NIODeadline.now().uptimeNanoseconds
        return traffic.withLockedValue { t in
            guard var controller = t.controller else { return nil }
            let seconds = t.lastAt.map { Double(now &- $0) / 1e9 } ?? 0
            t.lastAt = now
            let sample = t.meter.sample(seconds: seconds, statistics: statistics, droppedFrames: 0)
            let action = controller.update(sample)
            t.controller = controller
            return action.map { TrafficControlReport(streamID: "whip", action: $0, sample: sample, configuredVideo: t.configuredVideo) }
        }
    }

    /// The video bit rate traffic control asks the encoder for (nil: as configured, or no traffic control).
    public var videoBitRate: Int? { traffic.withLockedValue { $0.controller?.videoBitRate } }

    /// The size and frame rate traffic control asks the encoder for (nil: as configured).
    public var videoLayer: VideoLayer? { traffic.withLockedValue { $0.controller?.layer } }

    /// The server's refusal: a room error when the body names one (`duplicate_stream: ...`), else by status.
    static func refusal(_ response: WHIPSignaling.Response) -> RoomClientError {
        let line = response.body.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2, let code = RoomErrorCode.allCases.first(where: { $0.name == parts[0] }) {
            return .refused(ErrorMessage(id: nil, code: code, message: parts[1].trimmingCharacters(in: .whitespaces)))
        }
        let code: RoomErrorCode
        switch response.status {
        case 401: code = .tokenInvalid
        case 403: code = .noPrivilege
        case 404: code = .streamNotFound
        case 409: code = .duplicateStream
        case 429: code = .rateLimited
        case 500...: code = .internalError
        default: code = .badRequest
        }
        let detail = line.isEmpty ? "" : ": \(line.prefix(200))"
        return .refused(ErrorMessage(id: nil, code: code, message: "the server answered \(response.status)\(detail)"))
    }

    /// Sends a frame (publish). Dropped until connected and after close.
    public func send(_ frame: RTPFrame) { socket.send(frame) }

    /// Sends a media frame's header and payload (publish).
    public func send(_ header: MediaFrameHeader, payload: ByteBuffer) { socket.send(RTPFrame(header: header, payload: payload)) }

    /// True once after the server asked for a keyframe (PLI/FIR).
    public func takeKeyframeRequest() -> Bool {
        keyframeWanted.withLockedValue { wanted in
            defer { wanted = false }
            return wanted
        }
    }

    /// Asks the sender for a keyframe (play).
    public func requestKeyframe() { socket.requestKeyframe() }

    public var statistics: RTPPeerDriver.Statistics { socket.statistics }

    /// Ends the session: DELETE on its resource (errors ignored: the server may be gone), then the media
    /// session's close_notify and BYE. Once.
    public func close() async {
        guard closed.withLockedValue({ c in defer { c = true }; return !c }) else { return }
        traffic.withLockedValue { t in
            t.task?.cancel()
            t.task = nil
        }
        if let resource {
            _ = try? await WHIPSignaling.request(.DELETE, url: resource, bearer: bearer, trust: trust, group: group, timeoutSeconds: 3)
        }
        try? await socket.close().get()
    }
}
