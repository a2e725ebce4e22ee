import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One media transport on WebRTC's wire between two endpoints: the server's end of one publish or play, or
/// the client's. It joins the module's pieces in the order RFC 8829/8834 put them: ICE (the server a lite
/// agent, RFC 8445 section 2.5; the client a controlling checker), then DTLS (RFC 5763/5764; the client is
/// a=setup:active), then SRTP keyed from it; RTP and RTCP share the one 5-tuple (BUNDLE, rtcp-mux, RFC 5761).
/// On top: the send streams (packetizers, packet cache, RTX), the receive streams (jitter buffer, NACK),
/// RTCP sender/receiver reports with round-trip times (and RFC 3611's RRTR/DLRR for an end that only
/// receives), transport-wide sequence numbers with their feedback into the bandwidth estimator.
///
/// Not thread-safe: one event loop owns it (`RTPPeerDriver`). Time is passed in (monotonic µs); the caller
/// sends what each output says and calls `tick` at `nextDeadline`.
public final class RTPPeer {
    public enum Role: Sendable, Hashable {
        /// ICE-lite, controlled; DTLS server (a=setup:passive).
        case server
        /// ICE full, controlling (sends checks with USE-CANDIDATE); DTLS client (a=setup:active).
        case client
    }

    public struct Configuration: Sendable {
        /// Largest RTP payload (a 1200-byte payload keeps every SRTP datagram under 1280 bytes with headers).
        public var mtu = 1200
        /// Waits 2.5x the round trip for a missing packet: two repair rounds (a NACK and its RTX take about
        /// 1.1 rtt; the retry goes one rtt after the first NACK), then gives the frame up.
        public var jitterBuffer = JitterBuffer.Configuration(rttFactor: 2.5)
        /// How long sent packets can be retransmitted.
        public var packetCacheAge: Int64 = 1_000_000
        /// RTCP report interval (randomized 0.5-1.5x, RFC 3550 section 6.3.1).
        public var rtcpInterval: Int64 = 1_000_000
        /// A peer not connected (ICE and DTLS done) this long after start fails.
        public var connectTimeout: Int64 = 10_000_000
        /// Sent on video where the remote offered playout-delay (browsers do): what its jitter buffer and
        /// renderer may add. nil sends none.
        public var playoutDelay: PlayoutDelayExtension? = PlayoutDelayExtension(minimumMs: 0, maximumMs: 0)
        /// The round-trip time assumed until one is measured.
        public var initialRoundTripTime: Int64 = 100_000
        public var bandwidth = BandwidthEstimator.Configuration(minBitrate: 50_000, maxBitrate: 20_000_000, startBitrate: 1_000_000)
        public var ice = ICEClientChecker.Configuration()
        /// DTLS retransmits a lost flight after 250 ms, doubling up to 2 s (not RFC 6347's 1 s up to 60 s,
        /// libwebrtc's way too): a flight of three datagrams at 20 % loss gets through half the time, and
        /// 1, 2, 4 s left it four tries in the connect timeout (bench/loss down20: "the DTLS handshake did
        /// not complete" one run in six); these leave it eight.
        public var dtls: DTLSEndpoint.Configuration = {
            var dtls = DTLSEndpoint.Configuration()
            dtls.initialRetransmitTimeout = 250_000
            dtls.maximumRetransmitTimeout = 2_000_000
            return dtls
        }()
        /// Above this loss rate (what the remote's receiver reports say), each retransmission is sent twice,
        /// the copy `duplicateDelay` later: a lost retransmission would cost another round trip.
        public var duplicateRetransmissionsAbove = 0.01
        public var duplicateDelay: Int64 = 15_000
        /// Media leaves through a pacer at 2.5x the larger of the bandwidth estimate and the media's own rate,
        /// 40 ms of that at once (libwebrtc's burst interval): a frame leaves whole, a keyframe spreads over
        /// a few tens of milliseconds instead of hitting the path's queue at line rate. Audio goes first, then
        /// retransmissions, then video. Nothing waits more than 100 ms (the rate rises: a join's GOP must not
        /// look like a slow path to the drop policy, the path's own queue says that); packets that waited
        /// 500 ms anyway are dropped (a NACK can still fetch them).
        public var pacer = PacerConfiguration(pacingFactor: 2.5, burstInterval: 40_000, maxQueueTime: 500_000, maxQueuedPackets: 4_000,
                                              drainTime: 100_000)
        /// Above this loss rate (the same reports), audio with RED negotiated repeats the previous
        /// `redundantPackets` packets in each one (RFC 2198); off again below half of it. A lost audio
        /// packet is then recovered from the next one, with no round trip; .infinity never sends RED.
        public var redundancyAbove = 0.01
        /// How many previous packets each RED packet repeats: 1 or 2 (libwebrtc's default is 1; 2 rides out a
        /// burst of two at twice the cost).
        public var redundantPackets = 1
        /// The wall clock (µs since 1970) for sender reports and RRTR.
        public var wallClock: @Sendable () -> Int64 = RTPPeer.systemWallClock
        public init() {}

        /// Switches for benchmarks that measure a mechanism against its absence in one run (bench/loss's
        /// `udp-nopace` system), read by `RTPPeerDriver` from the process's environment, so serve, publish and play
        /// all take them: `RTCBOX_RTP_PACING=off` sends media as it comes (a pacing factor so large that
        /// every frame, a keyframe too, leaves at once). Anything else leaves the configuration as it is.
        public mutating func applyExperiments(_ environment: [String: String]) {
            if environment["RTCBOX_RTP_PACING"] == "off" {
                pacer = PacerConfiguration(pacingFactor: 10_000, burstInterval: pacer.burstInterval, maxQueueTime: pacer.maxQueueTime,
                                           maxQueuedPackets: pacer.maxQueuedPackets, drainTime: pacer.drainTime)
            }
        }
    }

    public enum State: Sendable, Hashable {
        case new
        /// ICE checks going on.
        case checking
        /// ICE selected a path; the DTLS handshake runs.
        case connecting
        case connected
        case failed(String)
        case closed
    }


    public let parameters: RTPPeerParameters
    public let configuration: Configuration
    public internal(set) var state: State = .new
    public internal(set) var statistics = Statistics()
    /// The remote address media goes to: the server's candidate (client), the ICE-selected one (server).
    public internal(set) var remoteAddress: TransportAddress?
    /// The tracks this peer sends.
    public var sendTracks: [RTPTrack] { sendStreams.map(\.track) }

    let dtls: DTLSEndpoint
    var srtp: SRTPSession?
    var lite: ICELiteAgent?
    var checker: ICEClientChecker?
    var checkerDeadline: Int64?
    var dtlsTimeout: Int64?
    var startedAt: Int64?
    var sendStreams: [RTPSendStream]
    var receiveStreams: [RTPReceiveStream]
    /// The SSRC of RTCP we send when we send no media.
    let localSSRC: UInt32
    var transportSequence = UInt16.random(in: .min ... .max)
    /// `transportBytesSent` after each transport-wide sequence number (its low 12 bits), for `queueReference`.
    var bytesAfterSequence = [Int64](repeating: 0, count: 4096)
    var feedbackAdapter = TransportFeedbackAdapter()
    var estimator: BandwidthEstimator
    var feedbackBuilder: TransportFeedbackBuilder?
    var lastReportedTarget: Int64 = 0
    var nextRTCP: Int64 = 0
    var rtt: Int64
    /// Sender reports and RRTRs sent: their NTP middle 32 bits and when (monotonic), for RTT (the last 8).
    var reportsSent: [(ntp: UInt32, at: Int64)] = []
    /// The loss rate the remote reports of what we send (RTCP receiver reports, smoothed).
    var remoteLossRate = 0.0
    /// Whether audio goes out with redundancy now (see `redundancyAbove`).
    var redundancy = false
    /// Copies of retransmissions to send later (protected already: the same bytes, which the remote's SRTP
    /// replay check drops when the first one came).
    var duplicates: [(at: Int64, datagram: RTPOutgoingDatagram)] = []
    /// The last RRTR the remote sent: its NTP middle 32 bits and when it came, answered with DLRR.
    var lastReceiverReference: (ssrc: UInt32, ntp: UInt32, at: Int64)?
    /// What waits to leave at the pacing rate, and when to release the next of it.
    struct PacedPacket {
        var packet: RTPPacket
        var retransmission: Bool
    }
    var pacer: Pacer<PacedPacket>
    var pacerWakeup: Int64?

    /// The one-way delay minimum of this and the last 30 s window, and when this window began.
    var delayFloor: (current: Int64?, previous: Int64?, since: Int64) = (nil, nil, 0)

    /// Bytes sent and retransmitted in this second and the last (media, retransmissions), for the budget.
    var retransmitWindow: (start: Int64, media: Int, resent: Int, lastMedia: Int) = (0, 0, 0, 0)

    public static let systemWallClock: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    public init(parameters: RTPPeerParameters, certificate: DTLSCertificate, configuration: Configuration = .init(), now: Int64) throws {
        self.parameters = parameters
        self.configuration = configuration
        var dtlsConfiguration = configuration.dtls
        dtlsConfiguration.mtu = max(dtlsConfiguration.mtu, 256)
        dtls = try DTLSEndpoint(role: parameters.role == .client ? .client : .server, certificate: certificate,
                                remoteFingerprint: parameters.remoteFingerprint, configuration: dtlsConfiguration)
        let payloadSize = max(256, configuration.mtu)
        sendStreams = parameters.sendTracks.map { RTPSendStream(track: $0, maxPayloadSize: payloadSize, cacheAge: configuration.packetCacheAge) }
        receiveStreams = parameters.receiveTracks.map { RTPReceiveStream(track: $0, jitterBuffer: configuration.jitterBuffer) }
        localSSRC = parameters.sendTracks.first?.ssrc ?? UInt32.random(in: 1 ... .max)
        estimator = BandwidthEstimator(configuration: configuration.bandwidth)
        pacer = Pacer(configuration: configuration.pacer, targetBitrate: configuration.bandwidth.startBitrate)
        rtt = configuration.initialRoundTripTime
        remoteAddress = parameters.role == .client ? parameters.remoteAddress : nil
        if parameters.extensions.transportWideSequenceNumber != nil, !receiveStreams.isEmpty {
            feedbackBuilder = TransportFeedbackBuilder(configuration: .init(senderSSRC: localSSRC))
        }
    }

    /// The round-trip time in µs: measured from RTCP (SR/RR, or RRTR/DLRR), else the last one set.
    public var roundTripTime: Int64 { rtt }

    /// A round-trip time from elsewhere (the signalling connection's), used until RTCP measures one.
    public func setRoundTripTime(_ micros: Int64) {
        guard statistics.roundTripTime == 0 else { return }
        rtt = min(max(micros, 1000), 5_000_000)
    }

    var isFinished: Bool {
        switch state {
        case .failed, .closed: return true
        default: return false
        }
    }

    // MARK: Inputs

    /// Client: sends the first check. Server: nothing to send (lite); starts the connect timer.
    public func start(now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard state == .new else { return out }
        startedAt = now
        state = .checking
        switch parameters.role {
        case .server:
            lite = ICELiteAgent(local: parameters.localICE, remoteUfrag: parameters.remoteICE.ufrag, now: now)
        case .client:
            guard let server = parameters.remoteAddress else {
                fail("no server address to check", &out)
                return out
            }
            checker = ICEClientChecker(local: parameters.localICE, remote: parameters.remoteICE, server: server,
                                       configuration: configuration.ice, now: now)
            pollChecker(now: now, &out)
        }
        return out
    }

    /// A datagram for this peer: STUN, DTLS, SRTP or SRTCP (RFC 7983's demultiplexing).
    public func handle(datagram: ByteBuffer, from source: TransportAddress, now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard !isFinished else { return out }
        switch PacketDemux.classify(datagram) {
        case .stun:
            guard let received = try? STUNMessage.parse(datagram) else { return dropped(out) }
            handleSTUN(received, from: source, now: now, &out)
        case .dtls:
            guard source == remoteAddress else { return dropped(out) }
            apply(dtls.handle(datagram: datagram, now: now), &out)
        case .rtp:
            guard source == remoteAddress, let srtp, let clear = try? srtp.unprotectRTP(datagram),
                  let packet = try? RTPPacket.parse(clear)
            else { return dropped(out) }
            statistics.packetsReceived += 1
            statistics.bytesReceived += datagram.readableBytes
            handleRTP(packet, now: now, &out)
        case .rtcp:
            guard source == remoteAddress, let srtp, let clear = try? srtp.unprotectRTCP(datagram),
                  let packets = try? RTCPPacket.parseCompound(clear)
            else { return dropped(out) }
            handleRTCP(packets, now: now, &out)
        case .unknown:
            return dropped(out)
        }
        pollReceivers(now: now, &out)
        return out
    }

    /// A STUN message the server's router already parsed.
    public func handle(stun: ReceivedSTUNMessage, from source: TransportAddress, now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard !isFinished else { return out }
        handleSTUN(stun, from: source, now: now, &out)
        return out
    }

    /// Sends one frame on the send track of its kind (of `payloadType` when given); before the peer is
    /// connected, or without such a track, it is counted in `framesNotSent`.
    public func send(_ frame: RTPFrame, payloadType: UInt8? = nil, now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard state == .connected, let index = sendStreams.firstIndex(where: {
            $0.track.codec.kind == frame.kind && (payloadType == nil || $0.track.payloadType == payloadType)
        }) else {
            statistics.framesNotSent += 1
            return out
        }
        let ids = parameters.extensions
        var elements: [RTPHeaderExtensionElement] = []
        if let id = ids.absCaptureTime, frame.captureTime > 0 {
            elements.append(RTPHeaderExtensionElement(id: id, data: AbsCaptureTime(wallClockMicros: frame.captureTime).data))
        }
        if let id = ids.frameTiming {
            elements.append(RTPHeaderExtensionElement(id: id, data: RTPFrameTiming(pts: frame.pts, dts: frame.dts, flags: frame.flags).data))
        }
        if let id = ids.audioLevel, frame.kind == .audio, let level = frame.audioLevel {
            elements.append(RTPHeaderExtensionElement(id: id, data: AudioLevelExtension(level: level).data))
        }
        if let id = ids.playoutDelay, frame.kind == .video, let delay = configuration.playoutDelay {
            elements.append(RTPHeaderExtensionElement(id: id, data: delay.data))
        }
        redundancy = REDEncoder.redundancy(lossRate: remoteLossRate, above: configuration.redundancyAbove, wasOn: redundancy)
        let packets = sendStreams[index].packetize(frame, extensions: elements, redundancy: redundancy ? configuration.redundantPackets : 0, now: now)
        statistics.redPacketsSent += packets.count(where: { $0.payloadType == sendStreams[index].track.redPayloadType })
        statistics.framesSent += 1
        rollRetransmitWindow(now: now)
        retransmitWindow.media += packets.reduce(0) { $0 + $1.serializedSize }
        let kind: Pacer<PacedPacket>.Kind = frame.kind == .video ? .video : .audio
        for packet in packets {
            enqueue(PacedPacket(packet: packet, retransmission: false), size: packet.serializedSize, kind: kind, now: now)
        }
        releasePaced(now: now, &out)
        return out
    }

    /// Asks the remote for a keyframe of the video it sends (PLI, RFC 4585 section 6.3.1).
    public func requestKeyframe(now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard state == .connected, let video = receiveStreams.first(where: { $0.track.codec.kind == .video }),
              let ssrc = video.ssrc
        else { return out }
        statistics.keyframeRequestsSent += 1
        sendRTCP([.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc))], &out)
        return out
    }

    /// Time passed: retransmits ICE and DTLS, releases frames, sends NACKs, PLIs, feedback and reports.
    public func tick(now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard !isFinished else { return out }
        if state != .connected, let startedAt, now - startedAt >= configuration.connectTimeout {
            fail(state == .connecting ? "the DTLS handshake did not complete" : "no ICE connectivity", &out)
            return out
        }
        if let lite {
            var agent = lite
            let timeout = agent.tick(now: now)
            self.lite = agent
            switch timeout {
            case .consentExpired:
                fail("ICE consent expired: nothing heard from the peer for 30 s", &out)
                return out
            case .neverConnected:
                fail("no ICE connectivity", &out)
                return out
            case nil:
                break
            }
        }
        if let checkerDeadline, now >= checkerDeadline { pollChecker(now: now, &out) }
        if isFinished { return out }
        if let dtlsTimeout, now >= dtlsTimeout {
            self.dtlsTimeout = nil
            apply(dtls.handleTimeout(now: now), &out)
        }
        guard state == .connected else { return out }
        releasePaced(now: now, &out)
        sendDuplicates(now: now, &out)
        pollReceivers(now: now, &out)
        if var builder = feedbackBuilder {
            let feedback = builder.poll(now: now)
            feedbackBuilder = builder
            if !feedback.isEmpty { sendRTCP(feedback.map(\.rtcpPacket), &out) }
        }
        if now >= nextRTCP { sendReports(now: now, &out) }
        return out
    }

    /// When to call `tick` next (µs); nil when nothing is pending.
    public var nextDeadline: Int64? {
        guard !isFinished else { return nil }
        var deadlines: [Int64?] = [checkerDeadline, dtlsTimeout, lite?.nextDeadline]
        if state != .connected, let startedAt { deadlines.append(startedAt + configuration.connectTimeout) }
        if state == .connected {
            deadlines.append(nextRTCP)
            deadlines.append(duplicates.first?.at)
            deadlines.append(pacerWakeup)
            deadlines.append(feedbackBuilder?.nextFeedbackTime)
            for stream in receiveStreams { deadlines.append(stream.nextDeadline(rtt: rtt)) }
        }
        return deadlines.compactMap { $0 }.min()
    }

    /// Ends the association: an RTCP BYE, then DTLS close_notify.
    public func close(now: Int64) -> RTPPeerOutput {
        var out = RTPPeerOutput()
        guard !isFinished else { return out }
        if state == .connected {
            let ssrcs = sendStreams.map(\.track.ssrc) + sendStreams.compactMap(\.track.rtxSSRC)
            sendRTCP([.bye(RTCPBye(ssrcs: ssrcs.isEmpty ? [localSSRC] : ssrcs))], &out)
        }
        let closing = dtls.close(now: now)
        for d in closing.datagrams { emit(d, &out) }
        state = .closed
        out.events.append(.closed)
        return out
    }

    // MARK: Helpers

    func emit(_ datagram: ByteBuffer, _ out: inout RTPPeerOutput) {
        guard let remoteAddress else { return }
        out.datagrams.append(RTPOutgoingDatagram(data: datagram, destination: remoteAddress))
    }

    func fail(_ reason: String, _ out: inout RTPPeerOutput) {
        guard !isFinished else { return }
        state = .failed(reason)
        checkerDeadline = nil
        dtlsTimeout = nil
        out.events.append(.failed(reason))
    }

    func dropped(_ out: RTPPeerOutput) -> RTPPeerOutput {
        statistics.datagramsDropped += 1
        return out
    }
}

/// An RTPPeer is bound to one event loop (its DTLS and SRTP state is OpenSSL's and libsrtp's).
@available(*, unavailable)
extension RTPPeer: Sendable {}
