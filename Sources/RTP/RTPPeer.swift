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

    /// What went through this peer, for quality events and metrics.
    public struct Statistics: Sendable, Hashable {
        public var packetsSent = 0
        public var bytesSent = 0
        public var packetsReceived = 0
        public var bytesReceived = 0
        public var retransmissionsSent = 0
        public var retransmittedBytesSent = 0
        /// Of those, second copies sent because the link loses much (see `duplicateRetransmissionsAbove`).
        public var duplicateRetransmissionsSent = 0
        public var retransmissionsReceived = 0
        public var nacksSent = 0
        public var nacksReceived = 0
        public var keyframeRequestsSent = 0
        public var keyframeRequestsReceived = 0
        public var framesSent = 0
        public var framesReceived = 0
        /// Frames of ours not sent: before the peer connected, or without a track of their kind.
        public var framesNotSent = 0
        /// Video frames given up by the jitter buffer, and freezes (give-ups while frames flowed).
        public var videoFramesGivenUp = 0
        public var freezes = 0
        public var audioFramesConcealed = 0
        /// Audio frames that came (in time) on the receive streams.
        public var audioFramesReceived = 0
        /// Audio packets lost on the way and recovered from the next packets' redundancy (RED), not concealed.
        public var audioRecovered = 0
        /// Audio packets sent as RED (with redundancy), while the remote reported loss.
        public var redPacketsSent = 0
        /// Datagrams dropped: undecryptable, unparsable, of no known stream, from the wrong address.
        public var datagramsDropped = 0
        /// Packets the remote reported lost of what we sent (RTCP receiver reports, cumulative).
        public var remoteLost: Int64 = 0
        public var roundTripTime: Int64 = 0
        /// The bandwidth estimate for what we send, bits/s (0 before any feedback): min(delay-based, loss-based).
        public var targetBitrate: Int64 = 0
        /// What the remote received of what we sent, bits/s (transport-cc), 0 before it is known.
        public var acknowledgedBitrate: Int64 = 0
        /// How much longer our packets take to arrive now than the quickest of the last 30 s (one-way, from
        /// transport-cc's send and arrival times; the two clocks' offset cancels): a queue on the path, µs.
        public var queueDelay: Int64 = 0
        /// When the feedback that measured `queueDelay` came (monotonic µs).
        public var queueDelayMeasuredAt: Int64 = 0
        /// The newest packet the remote reported: when it was sent plus the queue it met (µs, our clock; the
        /// path is through with what came before it then), and `transportBytesSent` when it was sent.
        public var queueReference: Int64 = 0
        public var bytesSentAtQueueReference: Int64 = 0
        /// Bytes of packets sent with transport-wide sequence numbers (media and retransmissions).
        public var transportBytesSent: Int64 = 0
        /// The rate the last feedback's packets arrived at (bits/s; 0 before one with enough of them): with a
        /// queue on the path, its bottleneck's rate (the queue spaces the arrivals); without one, the rate
        /// they were sent at, or more (a receiver that read a batch late).
        public var arrivalRate: Int64 = 0
        /// Retransmissions not sent because they would have passed half the media's bytes (a congested link
        /// NACKs more the more it is sent).
        public var retransmissionsSuppressed = 0
        /// How long the oldest packet in the pacer had waited (µs), as of the peer's last call.
        public var pacerQueueDelay: Int64 = 0
        /// Packets the pacer dropped after waiting too long (or to stay within its bound).
        public var pacerDropped = 0
        public init() {}

        /// The queue a packet sent at `now` meets on the path (µs). With no queue measured (under 50 ms: a busy
        /// host's loop makes 30 on loopback) or no arrival rate yet, what is left of the measured one: the path
        /// drains it in real time. With one, the queue is the path's bottleneck at work: what was sent after the newest reported packet waits behind it, draining at the
        /// rate the last feedback's packets arrived at (the bottleneck's, while it queues), so the queue is
        /// known before the feedback that reports it, which comes a queue and a feedback interval late (a
        /// sender at twice a link's rate would fill a 400 ms buffer before hearing of it). A sender that stops
        /// sending sees the queue drain.
        public func pathQueueDelay(at now: Int64) -> Int64 {
            let rate = arrivalRate
            guard queueDelay >= 50_000, rate > 0 else { return max(0, queueDelay - max(0, now - queueDelayMeasuredAt)) }
            let behind = Double(max(0, transportBytesSent - bytesSentAtQueueReference)) * 8 / Double(rate) * 1e6
            return max(0, queueReference + Int64(behind) - now)
        }
    }

    public let parameters: RTPPeerParameters
    public let configuration: Configuration
    public private(set) var state: State = .new
    public private(set) var statistics = Statistics()
    /// The remote address media goes to: the server's candidate (client), the ICE-selected one (server).
    public private(set) var remoteAddress: TransportAddress?
    /// The tracks this peer sends.
    public var sendTracks: [RTPTrack] { sendStreams.map(\.track) }

    private let dtls: DTLSEndpoint
    private var srtp: SRTPSession?
    private var lite: ICELiteAgent?
    private var checker: ICEClientChecker?
    private var checkerDeadline: Int64?
    private var dtlsTimeout: Int64?
    private var startedAt: Int64?
    private var sendStreams: [RTPSendStream]
    private var receiveStreams: [RTPReceiveStream]
    /// The SSRC of RTCP we send when we send no media.
    private let localSSRC: UInt32
    private var transportSequence = UInt16.random(in: .min ... .max)
    /// `transportBytesSent` after each transport-wide sequence number (its low 12 bits), for `queueReference`.
    private var bytesAfterSequence = [Int64](repeating: 0, count: 4096)
    private var feedbackAdapter = TransportFeedbackAdapter()
    private var estimator: BandwidthEstimator
    private var feedbackBuilder: TransportFeedbackBuilder?
    private var lastReportedTarget: Int64 = 0
    private var nextRTCP: Int64 = 0
    private var rtt: Int64
    /// Sender reports and RRTRs sent: their NTP middle 32 bits and when (monotonic), for RTT (the last 8).
    private var reportsSent: [(ntp: UInt32, at: Int64)] = []
    /// The loss rate the remote reports of what we send (RTCP receiver reports, smoothed).
    private var remoteLossRate = 0.0
    /// Whether audio goes out with redundancy now (see `redundancyAbove`).
    private var redundancy = false
    /// Copies of retransmissions to send later (protected already: the same bytes, which the remote's SRTP
    /// replay check drops when the first one came).
    private var duplicates: [(at: Int64, datagram: RTPOutgoingDatagram)] = []
    /// The last RRTR the remote sent: its NTP middle 32 bits and when it came, answered with DLRR.
    private var lastReceiverReference: (ssrc: UInt32, ntp: UInt32, at: Int64)?
    /// What waits to leave at the pacing rate, and when to release the next of it.
    private struct PacedPacket {
        var packet: RTPPacket
        var retransmission: Bool
    }
    private var pacer: Pacer<PacedPacket>
    private var pacerWakeup: Int64?

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

    private var isFinished: Bool {
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

    // MARK: ICE

    private func handleSTUN(_ received: ReceivedSTUNMessage, from source: TransportAddress, now: Int64, _ out: inout RTPPeerOutput) {
        if var agent = lite {
            let action = agent.handle(request: received, from: source, now: now)
            lite = agent
            switch action {
            case .respond(let response, let to):
                out.datagrams.append(RTPOutgoingDatagram(data: response, destination: to))
            case .respondAndSelect(let response, let to, let previous):
                out.datagrams.append(RTPOutgoingDatagram(data: response, destination: to))
                remoteAddress = to
                out.events.append(.selectedAddress(to, previous: previous))
                if state == .checking || state == .new { state = .connecting }
            case .ignore:
                break
            case .drop:
                statistics.datagramsDropped += 1
            }
        } else if var checker {
            let event = checker.handle(response: received, from: source, now: now)
            self.checker = checker
            switch event {
            case .connected:
                if let server = parameters.remoteAddress { out.events.append(.selectedAddress(server, previous: nil)) }
                state = .connecting
                apply(dtls.start(now: now), &out)
                pollChecker(now: now, &out)
            case .failed(let failure):
                fail("ICE: \(failure)", &out)
            case .consentRefreshed, .ignored:
                break
            }
        } else {
            statistics.datagramsDropped += 1
        }
    }

    private func pollChecker(now: Int64, _ out: inout RTPPeerOutput) {
        guard var checker else { return }
        let action = checker.poll(now: now)
        self.checker = checker
        switch action {
        case .send(let request, let to, let next):
            out.datagrams.append(RTPOutgoingDatagram(data: request, destination: to))
            checkerDeadline = next
        case .wait(let until):
            checkerDeadline = until
        case .failed(let failure):
            checkerDeadline = nil
            switch failure {
            case .timeout: fail("no answer to ICE checks (UDP blocked?)", &out)
            case .errorResponse(let code): fail("the server refused the ICE check (STUN error \(code))", &out)
            case .consentLost: fail("ICE consent lost: the server stopped answering", &out)
            }
        }
    }

    // MARK: DTLS

    private func apply(_ output: DTLSOutput, _ out: inout RTPPeerOutput) {
        for d in output.datagrams { emit(d, &out) }
        dtlsTimeout = output.timeout
        switch output.event {
        case .connected(let keys)?:
            do {
                srtp = try SRTPSession(keyingMaterial: keys)
                state = .connected
                out.events.append(.connected)
            } catch {
                fail("SRTP: \(error)", &out)
            }
        case .closed?:
            state = .closed
            out.events.append(.closed)
        case .failed(let error)?:
            fail("DTLS: \(error)", &out)
        case nil:
            break
        }
    }

    // MARK: RTP

    private func handleRTP(_ packet: RTPPacket, now: Int64, _ out: inout RTPPeerOutput) {
        let ids = parameters.extensions
        if let id = ids.transportWideSequenceNumber, feedbackBuilder != nil,
           let data = (try? packet.headerExtensionElement(id: id)) ?? nil,
           let sequence = try? TransportWideSequenceNumber.parse(data)
        {
            feedbackBuilder?.onPacket(sequenceNumber: sequence.value, arrivalTime: now)
        }
        for i in receiveStreams.indices {
            if receiveStreams[i].isRetransmission(ssrc: packet.ssrc, payloadType: packet.payloadType) {
                guard let ssrc = receiveStreams[i].ssrc,
                      let original = try? RTXPacket.original(from: packet, originalSSRC: ssrc, originalPayloadType: receiveStreams[i].track.payloadType),
                      original.payload.readableBytes > 0   // padding-only RTX
                else { return }
                statistics.retransmissionsReceived += 1
                receiveStreams[i].insert(original, extensions: ids, retransmission: true, arrival: now)
                return
            }
            if receiveStreams[i].accepts(ssrc: packet.ssrc, payloadType: packet.payloadType) {
                guard receiveStreams[i].isMedia(payloadType: packet.payloadType) else { break }
                receiveStreams[i].insert(packet, extensions: ids, retransmission: false, arrival: now)
                return
            }
        }
        statistics.datagramsDropped += 1
    }

    private func pollReceivers(now: Int64, _ out: inout RTPPeerOutput) {
        guard state == .connected else { return }
        var feedback: [RTCPPacket] = []
        for i in receiveStreams.indices {
            let result = receiveStreams[i].poll(now: now, rtt: rtt)
            out.frames.append(contentsOf: result.frames)
            statistics.framesReceived += result.frames.count
            guard let ssrc = receiveStreams[i].ssrc else { continue }
            if !result.nack.isEmpty {
                statistics.nacksSent += 1
                feedback.append(.nack(RTCPNack(senderSSRC: localSSRC, mediaSSRC: ssrc, lostSequenceNumbers: result.nack)))
            }
            if result.requestKeyframe {
                statistics.keyframeRequestsSent += 1
                feedback.append(.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc)))
            }
        }
        statistics.videoFramesGivenUp = receiveStreams.reduce(0) { $0 + ($1.videoCounters?.framesGivenUp ?? 0) }
        statistics.freezes = receiveStreams.reduce(0) { $0 + ($1.videoCounters?.freezes ?? 0) }
        statistics.audioFramesConcealed = receiveStreams.reduce(0) { $0 + $1.audioFramesConcealed }
        statistics.audioFramesReceived = receiveStreams.reduce(0) { $0 + ($1.track.codec.kind == .audio ? $1.framesReceived : 0) }
        statistics.audioRecovered = receiveStreams.reduce(0) { $0 + $1.audioPacketsRecoveredByRED }
        if !feedback.isEmpty { sendRTCP(feedback, &out) }
    }

    /// Numbers, encrypts and sends one packet (a retransmission gets a new transport-wide number).
    private func transmit(_ packet: RTPPacket, retransmission: Bool, now: Int64, _ out: inout RTPPeerOutput) {
        guard let srtp, let remoteAddress else { return }
        var packet = packet
        if let id = parameters.extensions.transportWideSequenceNumber {
            var elements = (try? packet.headerExtensionElements()) ?? []
            elements.removeAll { $0.id == id }
            elements.append(RTPHeaderExtensionElement(id: id, data: TransportWideSequenceNumber(transportSequence).data))
            packet.setHeaderExtensionElements(elements)
        }
        guard let protected = try? srtp.protectRTP(packet.serialized()) else {
            statistics.datagramsDropped += 1
            return
        }
        if parameters.extensions.transportWideSequenceNumber != nil {
            _ = feedbackAdapter.onPacketSent(sequenceNumber: transportSequence, size: protected.readableBytes, sendTime: now)
            statistics.transportBytesSent += Int64(protected.readableBytes)
            bytesAfterSequence[Int(transportSequence & 4095)] = statistics.transportBytesSent
            transportSequence &+= 1
        }
        statistics.packetsSent += 1
        statistics.bytesSent += protected.readableBytes
        let datagram = RTPOutgoingDatagram(data: protected, destination: remoteAddress)
        if retransmission {
            statistics.retransmissionsSent += 1
            statistics.retransmittedBytesSent += protected.readableBytes
            // A copy only for loss that is no queue's: with a queue on the path it would add to it.
            if remoteLossRate > configuration.duplicateRetransmissionsAbove, statistics.queueDelay < 20_000, duplicates.count < 1000 {
                duplicates.append((now + configuration.duplicateDelay, datagram))
            }
        }
        out.datagrams.append(datagram)
    }

    // MARK: RTCP

    private func handleRTCP(_ packets: [RTCPPacket], now: Int64, _ out: inout RTPPeerOutput) {
        var keyframeRequested = false
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                if let i = receiveStreams.firstIndex(where: { $0.ssrc == report.ssrc }) {
                    receiveStreams[i].noteSenderReport(report, arrival: now)
                }
                handleReportBlocks(report.reportBlocks, now: now)
            case .receiverReport(let report):
                handleReportBlocks(report.reportBlocks, now: now)
            case .nack(let nack):
                statistics.nacksReceived += 1
                guard let i = sendStreams.firstIndex(where: { $0.track.ssrc == nack.mediaSSRC }) else { continue }
                for retransmission in sendStreams[i].answer(nack, now: now, rtt: rtt) {
                    guard retransmissionAllowed(retransmission.serializedSize, now: now) else {
                        statistics.retransmissionsSuppressed += 1
                        continue
                    }
                    enqueue(PacedPacket(packet: retransmission, retransmission: true), size: retransmission.serializedSize,
                            kind: .retransmission, now: now)
                }
                releasePaced(now: now, &out)
            case .pictureLossIndication, .fullIntraRequest:
                statistics.keyframeRequestsReceived += 1
                keyframeRequested = true
            case .unknown(let type, let format, _):
                if type == RTCPPacket.transportFeedbackType, format == TransportFeedback.format,
                   let feedback = try? TransportFeedback.parse(packet)
                {
                    let results = feedbackAdapter.onFeedback(feedback)
                    noteQueueDelay(results, now: now)
                    estimator.update(results, now: now)
                    reportTarget(&out)
                } else if let xr = try? RTCPExtendedReport.parse(packet) {
                    if let reference = xr.receiverReferenceTime { lastReceiverReference = (xr.ssrc, reference.middle32, now) }
                    for block in xr.dlrr where block.ssrc == localSSRC {
                        measureRTT(reference: block.lastReceiverReport, delay: block.delaySinceLastReceiverReport, now: now)
                    }
                }
            case .sourceDescription, .bye, .receiverEstimatedMaxBitrate:
                break
            }
        }
        if keyframeRequested { out.events.append(.keyframeRequested) }
    }

    private func handleReportBlocks(_ blocks: [RTCPReportBlock], now: Int64) {
        for block in blocks where sendStreams.contains(where: { $0.track.ssrc == block.ssrc }) {
            measureRTT(reference: block.lastSenderReport, delay: block.delaySinceLastSenderReport, now: now)
            statistics.remoteLost = max(statistics.remoteLost, Int64(block.cumulativeLost))
            let fraction = Double(block.fractionLost) / 256
            remoteLossRate = remoteLossRate == 0 ? fraction : remoteLossRate * 0.5 + fraction * 0.5
            estimator.onLossReport(fractionLost: fraction, now: now)
        }
    }

    /// RFC 3550 section 6.4.1 (and RFC 3611 section 4.5): rtt = arrival - the report's send time - the
    /// remote's hold time; the send time is looked up by the NTP middle 32 bits the remote echoed.
    private func measureRTT(reference: UInt32, delay: UInt32, now: Int64) {
        guard reference != 0, let sent = reportsSent.last(where: { $0.ntp == reference }) else { return }
        let measured = now - sent.at - NTPTimestamp.micros(compactDuration: delay)
        guard measured >= 0, measured < 10_000_000 else { return }
        let sample = max(measured, 500)
        rtt = statistics.roundTripTime == 0 ? sample : (rtt * 7 + sample) / 8
        statistics.roundTripTime = rtt
        estimator.onRoundTripTime(rtt)
    }

    /// The one-way delay minimum of this and the last 30 s window, and when this window began.
    private var delayFloor: (current: Int64?, previous: Int64?, since: Int64) = (nil, nil, 0)

    private func noteQueueDelay(_ results: [PacketResult], now: Int64) {
        let delays = results.compactMap { r in r.arrivalTime.map { $0 - r.sendTime } }.sorted()
        guard !delays.isEmpty else { return }
        if now - delayFloor.since > 30_000_000 { delayFloor = (nil, delayFloor.current, now) }
        delayFloor.current = min(delayFloor.current ?? delays[0], delays[0])
        let floor = [delayFloor.current, delayFloor.previous].compactMap { $0 }.min() ?? delays[0]
        statistics.queueDelay = max(0, delays[delays.count / 2] - floor)
        statistics.queueDelayMeasuredAt = now
        // The arrival rate: every byte but the first arrival's, over the span of the arrivals.
        let arrivals = results.compactMap { r in r.arrivalTime.map { (at: $0, size: r.size) } }.sorted { $0.at < $1.at }
        if arrivals.count >= 4, let first = arrivals.first, let last = arrivals.last, last.at - first.at >= 2_000 {
            let bytes = arrivals.dropFirst().reduce(0) { $0 + $1.size }
            statistics.arrivalRate = Int64(Double(bytes) * 8 / Double(last.at - first.at) * 1e6)
        }
        if let newest = results.last(where: { $0.arrivalTime != nil }), let arrival = newest.arrivalTime {
            statistics.queueReference = newest.sendTime + max(0, arrival - newest.sendTime - floor)
            statistics.bytesSentAtQueueReference = bytesAfterSequence[Int(newest.sequenceNumber & 4095)]
        }
        statistics.acknowledgedBitrate = estimator.acknowledgedBitrate ?? statistics.acknowledgedBitrate
    }

    private func reportTarget(_ out: inout RTPPeerOutput) {
        let target = estimator.targetBitrate
        statistics.targetBitrate = target
        // Reported when it moved by 5 % or more: the encoder need not hear of every small step.
        guard lastReportedTarget == 0 || abs(target - lastReportedTarget) * 20 >= lastReportedTarget else { return }
        lastReportedTarget = target
        out.events.append(.targetBitrate(target))
    }

    /// The periodic compound: SR per sent stream (else an RR) with a block per received stream, SDES CNAME,
    /// and XR (RRTR when we receive, DLRR answering the remote's RRTR).
    private func sendReports(now: Int64, _ out: inout RTPPeerOutput) {
        let interval = configuration.rtcpInterval
        nextRTCP = now + interval / 2 + Int64.random(in: 0...max(1, interval))
        let wall = configuration.wallClock()
        let ntp = NTPTimestamp(wallClockMicros: wall)
        var blocks: [RTCPReportBlock] = []
        for i in receiveStreams.indices { if let b = receiveStreams[i].reportBlock(now: now) { blocks.append(b) } }
        var packets: [RTCPPacket] = []
        var first = true
        for stream in sendStreams {
            guard let report = stream.senderReport(now: now, ntp: ntp, reportBlocks: first ? blocks : []) else { continue }
            packets.append(.senderReport(report))
            first = false
        }
        if packets.isEmpty { packets.append(.receiverReport(RTCPReceiverReport(ssrc: localSSRC, reportBlocks: blocks))) }
        if packets.contains(where: { if case .senderReport = $0 { return true }; return false }) || !receiveStreams.isEmpty {
            remember(ntp.middle32, at: now)
        }
        packets.append(.sourceDescription(RTCPSourceDescription(chunks: [
            .init(ssrc: localSSRC, items: [.init(type: RTCPSourceDescription.ItemType.cname, text: parameters.localICE.ufrag)])
        ])))
        var xr = RTCPExtendedReport(ssrc: localSSRC)
        if !receiveStreams.isEmpty { xr.receiverReferenceTime = ntp }
        if let reference = lastReceiverReference {
            xr.dlrr = [.init(ssrc: reference.ssrc, lastReceiverReport: reference.ntp,
                             delaySinceLastReceiverReport: NTPTimestamp.compactDuration(micros: now - reference.at))]
        }
        if xr.receiverReferenceTime != nil || !xr.dlrr.isEmpty { packets.append(xr.rtcpPacket) }
        estimator.process(now: now)
        if !sendStreams.isEmpty { reportTarget(&out) }
        sendRTCP(packets, &out)
    }

    /// Bytes sent and retransmitted in this second and the last (media, retransmissions), for the budget.
    private var retransmitWindow: (start: Int64, media: Int, resent: Int, lastMedia: Int) = (0, 0, 0, 0)

    /// Retransmissions may take at most half as many bytes as the media of the last second: past that a
    /// link loses because it is full, and every retransmission makes it fuller.
    private func retransmissionAllowed(_ size: Int, now: Int64) -> Bool {
        rollRetransmitWindow(now: now)
        let media = max(retransmitWindow.media, retransmitWindow.lastMedia)
        guard retransmitWindow.resent + size <= max(media / 2, 20_000) else { return false }
        retransmitWindow.resent += size
        return true
    }

    private func rollRetransmitWindow(now: Int64) {
        if now - retransmitWindow.start >= 1_000_000 {
            retransmitWindow = (now, 0, 0, retransmitWindow.media)
        }
    }

    // MARK: Pacing

    private func enqueue(_ packet: PacedPacket, size: Int, kind: Pacer<PacedPacket>.Kind, now: Int64) {
        if pacer.enqueue(packet, size: size, kind: kind, now: now) != nil { statistics.pacerDropped += 1 }
    }

    /// Sends what the pacer lets out now, at 2.5x the larger of the estimate and the media rate: the pacer
    /// smooths bursts; holding back a stream the estimate says does not fit is the caller's drop policy's
    /// (it sees `pacerQueueDelay` and `queueDelay`), not a queue growing here.
    private func releasePaced(now: Int64, _ out: inout RTPPeerOutput) {
        rollRetransmitWindow(now: now)
        let mediaRate = Int64(max(retransmitWindow.media, retransmitWindow.lastMedia)) * 8
        pacer.setTargetBitrate(max(estimator.targetBitrate, mediaRate), now: now)
        let output = pacer.poll(now: now)
        statistics.pacerDropped += output.dropped.count
        for paced in output.send { transmit(paced.packet, retransmission: paced.retransmission, now: now, &out) }
        pacerWakeup = output.nextWakeup
        statistics.pacerQueueDelay = pacer.queueAge(now: now)
    }

    private func sendDuplicates(now: Int64, _ out: inout RTPPeerOutput) {
        var sent = 0
        while sent < duplicates.count, duplicates[sent].at <= now {
            out.datagrams.append(duplicates[sent].datagram)
            statistics.duplicateRetransmissionsSent += 1
            statistics.packetsSent += 1
            statistics.bytesSent += duplicates[sent].datagram.data.readableBytes
            statistics.retransmittedBytesSent += duplicates[sent].datagram.data.readableBytes
            sent += 1
        }
        if sent > 0 { duplicates.removeFirst(sent) }
    }

    private func remember(_ ntp: UInt32, at now: Int64) {
        reportsSent.append((ntp, now))
        if reportsSent.count > 8 { reportsSent.removeFirst() }
    }

    private func sendRTCP(_ packets: [RTCPPacket], _ out: inout RTPPeerOutput) {
        guard let srtp, let remoteAddress, !packets.isEmpty else { return }
        guard let protected = try? srtp.protectRTCP(RTCPPacket.compound(packets)) else {
            statistics.datagramsDropped += 1
            return
        }
        statistics.packetsSent += 1
        statistics.bytesSent += protected.readableBytes
        out.datagrams.append(RTPOutgoingDatagram(data: protected, destination: remoteAddress))
    }

    // MARK: Helpers

    private func emit(_ datagram: ByteBuffer, _ out: inout RTPPeerOutput) {
        guard let remoteAddress else { return }
        out.datagrams.append(RTPOutgoingDatagram(data: datagram, destination: remoteAddress))
    }

    private func fail(_ reason: String, _ out: inout RTPPeerOutput) {
        guard !isFinished else { return }
        state = .failed(reason)
        checkerDeadline = nil
        dtlsTimeout = nil
        out.events.append(.failed(reason))
    }

    private func dropped(_ out: RTPPeerOutput) -> RTPPeerOutput {
        statistics.datagramsDropped += 1
        return out
    }
}

/// An RTPPeer is bound to one event loop (its DTLS and SRTP state is OpenSSL's and libsrtp's).
@available(*, unavailable)
extension RTPPeer: Sendable {}
