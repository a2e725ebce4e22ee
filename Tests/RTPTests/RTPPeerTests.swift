import Foundation
import NIOCore
import XCTest

@testable import RTP

/// A client and a server `RTPPeer` on one simulated clock, joined by a wire with a one-way delay and a
/// loss rule: the whole stack (ICE, DTLS, SRTP, RTP/RTCP, NACK/RTX, jitter buffers) with real OpenSSL and
/// libsrtp, no sockets.
final class PeerWire {
    static let clientAddress = TransportAddress("10.0.0.2:50000")!
    static let serverAddress = TransportAddress("10.0.0.1:3478")!

    var now: Int64 = 1_000_000
    let client: RTPPeer
    let server: RTPPeer
    var delay: Int64 = 20_000
    /// Extra one-way delay on the way to the server (a queue on the uplink).
    var queueToServer: Int64 = 0
    /// Whether to drop a datagram (toServer, its first byte); applied once `lossy` is set.
    var lossRate = 0.0
    var lossy = false
    private var rng = SplitMix64(seed: 42)
    private var inFlight: [(at: Int64, toServer: Bool, data: ByteBuffer)] = []
    private(set) var clientFrames: [RTPFrame] = []
    private(set) var serverFrames: [RTPFrame] = []
    private(set) var clientEvents: [RTPPeerEvent] = []
    private(set) var serverEvents: [RTPPeerEvent] = []
    private(set) var dropped = 0
    /// Blocks everything to the server (a firewall).
    var blockToServer = false
    /// Sees every datagram the client sends (an attacker on the path recording them).
    var tapToServer: ((ByteBuffer) -> Void)?

    static let clientICE = ICECredentials(ufrag: "clnt", password: "clientpassword0123456789")!
    static let serverICE = ICECredentials(ufrag: "srvr", password: "serverpassword0123456789")!

    init(clientSends: [RTPTrack], serverReceives: [RTPTrack], serverSends: [RTPTrack] = [], clientReceives: [RTPTrack] = [],
         extensions: RTPExtensionIDs = .rtcbox, configure: (inout RTPPeer.Configuration) -> Void = { _ in }) throws {
        let clientCertificate = try DTLSCertificate()
        let serverCertificate = try DTLSCertificate()
        var configuration = RTPPeer.Configuration()
        configuration.dtls.initialRetransmitTimeout = 100_000
        configure(&configuration)
        client = try RTPPeer(
            parameters: RTPPeerParameters(role: .client, localICE: Self.clientICE, remoteICE: Self.serverICE,
                                          remoteFingerprint: serverCertificate.fingerprint, remoteAddress: Self.serverAddress,
                                          sendTracks: clientSends, receiveTracks: clientReceives, extensions: extensions),
            certificate: clientCertificate, configuration: configuration, now: now)
        server = try RTPPeer(
            parameters: RTPPeerParameters(role: .server, localICE: Self.serverICE, remoteICE: Self.clientICE,
                                          remoteFingerprint: clientCertificate.fingerprint,
                                          sendTracks: serverSends, receiveTracks: serverReceives, extensions: extensions),
            certificate: serverCertificate, configuration: configuration, now: now)
    }

    func absorb(_ output: RTPPeerOutput, fromClient: Bool) {
        for d in output.datagrams {
            if fromClient { XCTAssertEqual(d.destination, Self.serverAddress) } else { XCTAssertEqual(d.destination, Self.clientAddress) }
            if fromClient && blockToServer { continue }
            if fromClient { tapToServer?(d.data) }
            if lossy, Double(rng.next() % 1_000_000) / 1e6 < lossRate {
                dropped += 1
                continue
            }
            inFlight.append((now + delay + (fromClient ? queueToServer : 0), fromClient, d.data))
        }
        if fromClient {
            clientFrames += output.frames
            clientEvents += output.events
        } else {
            serverFrames += output.frames
            serverEvents += output.events
        }
    }

    func start() {
        absorb(server.start(now: now), fromClient: false)
        absorb(client.start(now: now), fromClient: true)
    }

    /// Runs the clock in 1 ms steps to `end`, delivering datagrams and ticking peers at their deadlines;
    /// `each` runs once per step (to send frames).
    func run(until end: Int64, each: ((Int64) -> Void)? = nil) {
        while now < end {
            now += 1000
            let due = inFlight.filter { $0.at <= now }
            inFlight.removeAll { $0.at <= now }
            for d in due {
                if d.toServer {
                    absorb(server.handle(datagram: d.data, from: Self.clientAddress, now: now), fromClient: false)
                } else {
                    absorb(client.handle(datagram: d.data, from: Self.serverAddress, now: now), fromClient: true)
                }
            }
            if let t = client.nextDeadline, t <= now { absorb(client.tick(now: now), fromClient: true) }
            if let t = server.nextDeadline, t <= now { absorb(server.tick(now: now), fromClient: false) }
            each?(now)
        }
    }

    var connected: Bool { client.state == .connected && server.state == .connected }
}

/// Synthetic H.264 access units (Annex-B): the packetizer and jitter buffer look at NAL headers only.
enum SyntheticVideo {
    static func accessUnit(index: Int, keyframe: Bool, size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        let startCode: [UInt8] = [0, 0, 0, 1]
        if keyframe {
            buffer.writeBytes(startCode + [0x67, 0x42, 0xE0, 0x1F, 0xDA, 0x01])
            buffer.writeBytes(startCode + [0x68, 0xCE, 0x3C, 0x80])
        }
        buffer.writeBytes(startCode + [keyframe ? 0x65 : 0x41])
        // Bytes that never make a start code (no zeros), different per frame.
        buffer.writeBytes((0..<size).map { UInt8(1 + ($0 * 7 + index * 13) % 250) })
        return buffer
    }
}

final class RTPPeerTests: XCTestCase {
    static let video = RTPTrack(codec: .h264, payloadType: 96, ssrc: 0x1111, rtxPayloadType: 97, rtxSSRC: 0x1112)
    static let audio = RTPTrack(codec: .opus, payloadType: 111, ssrc: 0x2222)

    func testConnectsAndDeliversFramesExactly() throws {
        let wire = try PeerWire(clientSends: [Self.video, Self.audio],
                                serverReceives: [RTPTrack(codec: .h264, payloadType: 96, ssrc: 0, rtxPayloadType: 97, rtxSSRC: 0x1112),
                                                 RTPTrack(codec: .opus, payloadType: 111, ssrc: 0)])
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected, "client \(wire.client.state) server \(wire.server.state)")
        XCTAssertTrue(wire.serverEvents.contains(.selectedAddress(PeerWire.clientAddress, previous: nil)))
        XCTAssertTrue(wire.serverEvents.contains(.connected))
        XCTAssertTrue(wire.clientEvents.contains(.connected))

        var sent: [RTPFrame] = []
        let begin = wire.now
        wire.run(until: begin + 2_000_000) { now in
            let t = now - begin
            if t % 33_000 == 0 {
                let index = Int(t / 33_000) - 1
                let key = index % 30 == 0
                let frame = RTPFrame(kind: .video, isKeyframe: key, pts: Int64(index) * 33_333, dts: Int64(index) * 33_333 - 66_666,
                                     captureTime: 1_700_000_000_000_000 + t, flags: key ? 1 : 0,
                                     payload: SyntheticVideo.accessUnit(index: index, keyframe: key, size: key ? 9000 : 1500))
                sent.append(frame)
                wire.absorb(wire.client.send(frame, now: now), fromClient: true)
            }
            if t % 20_000 == 0 {
                let index = Int(t / 20_000)
                let frame = RTPFrame(kind: .audio, isKeyframe: true, pts: Int64(index) * 20_000, dts: Int64(index) * 20_000,
                                     captureTime: 1_700_000_000_000_000 + t, payload: ByteBuffer(bytes: [0xFC] + (0..<80).map { UInt8(truncatingIfNeeded: $0 + index) }))
                sent.append(frame)
                wire.absorb(wire.client.send(frame, now: now), fromClient: true)
            }
        }
        wire.run(until: wire.now + 300_000)
        let sentVideo = sent.filter { $0.kind == .video }
        let gotVideo = wire.serverFrames.filter { $0.kind == .video }
        XCTAssertEqual(gotVideo.count, sentVideo.count)
        for (a, b) in zip(sentVideo, gotVideo) {
            XCTAssertEqual(a.payload, b.payload)
            XCTAssertEqual(a.pts, b.pts)
            XCTAssertEqual(a.dts, b.dts)
            XCTAssertEqual(a.flags, b.flags)
            XCTAssertEqual(a.isKeyframe, b.isKeyframe)
            // abs-capture-time is NTP 32.32: within a microsecond.
            XCTAssertLessThanOrEqual(abs(a.captureTime - b.captureTime), 1)
        }
        let sentAudio = sent.filter { $0.kind == .audio }
        let gotAudio = wire.serverFrames.filter { $0.kind == .audio }
        XCTAssertEqual(gotAudio.map(\.payload), sentAudio.map(\.payload))
        XCTAssertEqual(gotAudio.map(\.pts), sentAudio.map(\.pts))
        XCTAssertEqual(wire.server.statistics.videoFramesGivenUp, 0)
        XCTAssertEqual(wire.client.statistics.retransmissionsSent, 0)
        // Both ends measured the round trip (the server, which only receives, through RRTR/DLRR).
        XCTAssertEqual(Double(wire.client.roundTripTime), 40_000, accuracy: 3_000)
        XCTAssertEqual(Double(wire.server.roundTripTime), 40_000, accuracy: 3_000)
        // transport-cc feedback reached the sender's estimator.
        XCTAssertTrue(wire.clientEvents.contains { if case .targetBitrate = $0 { return true }; return false })
    }

    func testRepairsTenPercentLossWithRetransmissions() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected)
        wire.lossRate = 0.10
        wire.lossy = true
        var sent: [RTPFrame] = []
        let begin = wire.now
        var keyframeAsked = false
        var seenEvents = wire.clientEvents.count
        wire.run(until: begin + 5_000_000) { now in
            let t = now - begin
            guard t % 33_000 == 0 else { return }
            let index = Int(t / 33_000) - 1
            let key = index % 60 == 0 || keyframeAsked
            keyframeAsked = false
            let frame = RTPFrame(kind: .video, isKeyframe: key, pts: Int64(index) * 33_333, dts: Int64(index) * 33_333, captureTime: 0,
                                 payload: SyntheticVideo.accessUnit(index: index, keyframe: key, size: key ? 9000 : 2500))
            sent.append(frame)
            let out = wire.client.send(frame, now: now)
            wire.absorb(out, fromClient: true)
            keyframeAsked = wire.clientEvents.count > seenEvents && wire.clientEvents[seenEvents...].contains(.keyframeRequested)
            seenEvents = wire.clientEvents.count
        }
        wire.lossy = false
        wire.run(until: wire.now + 500_000)
        let got = wire.serverFrames
        let byPTS = Dictionary(sent.map { ($0.pts, $0) }, uniquingKeysWith: { a, _ in a })
        // Every frame delivered is exactly a frame sent, in order.
        for f in got { XCTAssertEqual(byPTS[f.pts]?.payload, f.payload) }
        XCTAssertEqual(got.map(\.pts), got.map(\.pts).sorted())
        let stats = wire.client.statistics
        XCTAssertGreaterThan(stats.retransmissionsSent, 20, "NACKs answered with RTX")
        XCTAssertGreaterThan(wire.server.statistics.retransmissionsReceived, 10)
        // Receiver reports told the sender of the loss: it sent each retransmission twice from then on, and
        // the receiver's SRTP replay check dropped the copies of those that had come.
        XCTAssertGreaterThan(stats.duplicateRetransmissionsSent, 10)
        // 10 % loss both ways (media, NACKs and RTX alike). Without repair a third of the frames would lose a
        // packet, and each loss costs the frames up to the next keyframe; with it (runs of this test gave
        // 125-151 of 151) a frame is lost only when two repair rounds failed.
        XCTAssertGreaterThanOrEqual(Double(got.count), Double(sent.count) * 0.8,
                                    "delivered \(got.count) of \(sent.count), given up \(wire.server.statistics.videoFramesGivenUp)")
        print("10 % loss: delivered \(got.count) of \(sent.count); given up \(wire.server.statistics.videoFramesGivenUp); rtx \(stats.retransmissionsSent) of \(stats.packetsSent); plis \(wire.server.statistics.keyframeRequestsSent); nacks \(wire.server.statistics.nacksSent)")
    }

    /// Opus 111 with RED 63 negotiated, no RTX (a NACK finds no retransmission: RED is the only repair).
    static let audioRED = RTPTrack(codec: .opus, payloadType: 111, ssrc: 0x2222, redPayloadType: 63)

    /// What an audio run on the wire gave: the server's concealed and RED-recovered packets, the client's RED
    /// packets, the audio frames sent and delivered.
    struct AudioRun {
        var wire: PeerWire
        var sent: [RTPFrame] = []
        var concealed: Int { wire.server.statistics.audioFramesConcealed }
        var recovered: Int { wire.server.statistics.audioRecovered }
        var redSent: Int { wire.client.statistics.redPacketsSent }
    }

    /// 20 ms Opus frames from the client for `seconds`, at `lossRate` both ways (RTCP too), then 300 ms clean.
    func audioRun(lossRate: Double, seconds: Int64, configure: (inout RTPPeer.Configuration) -> Void = { _ in }) throws -> AudioRun {
        let wire = try PeerWire(clientSends: [Self.audioRED], serverReceives: [Self.audioRED], configure: configure)
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected)
        var run = AudioRun(wire: wire)
        wire.lossRate = lossRate
        wire.lossy = lossRate > 0
        let begin = wire.now
        wire.run(until: begin + seconds * 1_000_000) { now in
            let t = now - begin
            guard t % 20_000 == 0 else { return }
            let index = Int(t / 20_000)
            let frame = RTPFrame(kind: .audio, isKeyframe: true, pts: Int64(index) * 20_000, dts: Int64(index) * 20_000, captureTime: 0,
                                 payload: ByteBuffer(bytes: [0xFC] + (0..<100).map { UInt8(truncatingIfNeeded: $0 * 7 + index) }))
            run.sent.append(frame)
            wire.absorb(wire.client.send(frame, now: now), fromClient: true)
        }
        wire.lossy = false
        wire.run(until: wire.now + 300_000)
        // Whatever is delivered is exactly what was sent at its time (the recovered frames too), in order.
        let byPTS = Dictionary(run.sent.map { ($0.pts, $0.payload) }, uniquingKeysWith: { a, _ in a })
        let got = wire.serverFrames.filter { $0.kind == .audio }
        for frame in got { XCTAssertEqual(byPTS[frame.pts], frame.payload, "pts \(frame.pts)") }
        XCTAssertEqual(got.map(\.pts), got.map(\.pts).sorted())
        // Each packet played or concealed, none twice (a loss at the very start or end is neither).
        XCTAssertLessThanOrEqual(got.count + run.concealed, run.sent.count)
        XCTAssertGreaterThanOrEqual(got.count + run.concealed, run.sent.count - 3)
        XCTAssertEqual(wire.client.statistics.retransmissionsSent, 0, "no NACK repair")
        return run
    }

    func testREDRecoversAudioLossWithoutARoundTrip() throws {
        // The same wire and seed twice: RED negotiated and switched on by the receiver reports' loss, and
        // RED negotiated but never switched on.
        let red = try audioRun(lossRate: 0.10, seconds: 10)
        let plain = try audioRun(lossRate: 0.10, seconds: 10) { $0.redundancyAbove = .infinity }
        print("10 % audio loss, \(red.sent.count) packets: concealed \(red.concealed) with RED (recovered \(red.recovered), "
              + "\(red.redSent) RED packets), \(plain.concealed) without")
        XCTAssertEqual(plain.redSent, 0)
        XCTAssertEqual(plain.recovered, 0)
        XCTAssertGreaterThan(plain.concealed, red.sent.count / 20, "about a tenth lost")
        // RED came on with the first report of the loss that arrived (0.5-1.5 s, more when one is lost) and
        // stayed on (runs of this test: 302-471 of 500 packets; the fewest when the first reports were lost).
        XCTAssertGreaterThan(red.redSent, red.sent.count / 2)
        // Most of the lost packets came back from the next one: what is left was lost before RED came on, or
        // two in a row (runs: 33-48 recovered, 5-16 concealed with RED, and once 46 recovered with RED on late;
        // 43-62 concealed without).
        XCTAssertGreaterThan(red.recovered, red.concealed)
        XCTAssertLessThan(red.concealed * 2, plain.concealed, "RED: \(red.concealed), plain: \(plain.concealed)")

        // The loss gone, the reports bring the smoothed rate under half the threshold and RED goes off again.
        let wire = red.wire
        var index = red.sent.count
        let send = { (now: Int64) in
            guard now % 20_000 == 0 else { return }
            index += 1
            let frame = RTPFrame(kind: .audio, isKeyframe: true, pts: Int64(index) * 20_000, dts: Int64(index) * 20_000, captureTime: 0,
                                 payload: ByteBuffer(bytes: [0xFC, UInt8(truncatingIfNeeded: index)]))
            wire.absorb(wire.client.send(frame, now: now), fromClient: true)
        }
        wire.run(until: wire.now + 8_000_000, each: send)
        let redAfterLoss = wire.client.statistics.redPacketsSent
        wire.run(until: wire.now + 2_000_000, each: send)
        XCTAssertEqual(wire.client.statistics.redPacketsSent, redAfterLoss, "off on a clean wire")
    }

    func testREDStaysOffOnACleanWire() throws {
        let run = try audioRun(lossRate: 0, seconds: 4)
        XCTAssertEqual(run.redSent, 0)
        XCTAssertEqual(run.recovered, 0)
        XCTAssertEqual(run.concealed, 0)
        XCTAssertEqual(run.wire.serverFrames.map(\.payload), run.sent.map(\.payload))
    }

    /// transport-cc's send and arrival times show a queue on the path as soon as it builds (what traffic
    /// control over UDP steers by), and what the receiver got.
    func testTransportFeedbackMeasuresTheQueueAndTheDeliveredRate() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        var index = 0
        let send = { (now: Int64) in
            guard now % 33_000 < 1000 else { return }
            let frame = RTPFrame(kind: .video, isKeyframe: index % 30 == 0, pts: Int64(index) * 33_333, dts: Int64(index) * 33_333,
                                 captureTime: 0, payload: SyntheticVideo.accessUnit(index: index, keyframe: index % 30 == 0, size: 6000))
            index += 1
            wire.absorb(wire.client.send(frame, now: now), fromClient: true)
        }
        wire.run(until: wire.now + 2_000_000, each: send)
        XCTAssertLessThan(wire.client.statistics.queueDelay, 3_000, "no queue yet")
        let acknowledged = wire.client.statistics.acknowledgedBitrate
        XCTAssertEqual(Double(acknowledged), 30 * 6_100 * 8, accuracy: 30 * 6_100 * 8 * 0.25, "about 1.5 Mbit/s arrived")
        // No bottleneck: packets arrive as they were sent, frame by frame, no slower than the stream.
        XCTAssertGreaterThan(Double(wire.client.statistics.arrivalRate), 30 * 6_100 * 8 * 0.75)
        wire.queueToServer = 120_000
        wire.run(until: wire.now + 1_000_000, each: send)
        XCTAssertEqual(Double(wire.client.statistics.queueDelay), 120_000, accuracy: 10_000)
    }

    /// A keyframe far larger than a burst leaves over time, within the pacer's 100 ms, and audio sent after
    /// it overtakes what of it still waits.
    func testPacerSpreadsAKeyframeAndLetsAudioGoFirst() throws {
        let wire = try PeerWire(clientSends: [Self.video, Self.audio],
                                serverReceives: [Self.video, RTPTrack(codec: .opus, payloadType: 111, ssrc: 0)])
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected)
        let keyframe = RTPFrame(kind: .video, isKeyframe: true, pts: 0, dts: 0, captureTime: 0, flags: 1,
                                payload: SyntheticVideo.accessUnit(index: 0, keyframe: true, size: 120_000))
        let sentAt = wire.now
        let first = wire.client.send(keyframe, now: wire.now)
        let burstBytes = first.datagrams.reduce(0) { $0 + $1.data.readableBytes }
        // 2.5 x 1 Mbit/s (the start estimate) would take 384 ms; 120 kB in 100 ms is 9.6 Mbit/s, 48 kB in 40 ms.
        XCTAssertGreaterThan(burstBytes, 40_000)
        XCTAssertLessThan(burstBytes, 52_000, "a first burst only, not 120 kB at once")
        XCTAssertNotNil(wire.client.nextDeadline)
        wire.absorb(first, fromClient: true)
        let audio = RTPFrame(kind: .audio, isKeyframe: true, pts: 0, dts: 0, captureTime: 0, payload: ByteBuffer(bytes: [0xFC, 1, 2, 3]))
        wire.absorb(wire.client.send(audio, now: wire.now), fromClient: true)
        var videoAt: Int64?, audioAt: Int64?
        wire.run(until: wire.now + 1_000_000) { now in
            if audioAt == nil, wire.serverFrames.contains(where: { $0.kind == .audio }) { audioAt = now }
            if videoAt == nil, wire.serverFrames.contains(where: { $0.kind == .video }) { videoAt = now }
        }
        let video = wire.serverFrames.first { $0.kind == .video }
        XCTAssertEqual(video?.payload, keyframe.payload, "the keyframe whole and exact")
        XCTAssertEqual(wire.client.statistics.pacerDropped, 0)
        XCTAssertEqual(wire.client.statistics.retransmissionsSent, 0)
        guard let videoAt, let audioAt else { return XCTFail("video \(String(describing: videoAt)) audio \(String(describing: audioAt))") }
        XCTAssertLessThan(audioAt, videoAt, "audio overtakes the queued keyframe")
        // The last of it leaves within about the 100 ms drain time; the 20 ms wire after.
        XCTAssertGreaterThan(videoAt - sentAt, 50_000, "not all at once")
        XCTAssertLessThan(videoAt - sentAt, 170_000)
        XCTAssertEqual(wire.client.statistics.pacerQueueDelay, 0)
    }

    /// The queue a packet sent now meets: measured and draining when small; predicted from what was sent
    /// behind the newest reported packet when the path is queueing.
    func testPathQueueDelayDrainsAndPredicts() {
        var s = RTPPeer.Statistics()
        s.queueDelay = 20_000
        s.queueDelayMeasuredAt = 1_000_000
        XCTAssertEqual(s.pathQueueDelay(at: 1_000_000), 20_000)
        XCTAssertEqual(s.pathQueueDelay(at: 1_015_000), 5_000)
        XCTAssertEqual(s.pathQueueDelay(at: 1_100_000), 0)
        // 100 ms of queue on a 1 Mbit/s path; since the newest reported packet 25 kB more went out (200 ms
        // of the path's time): a packet sent 50 ms after that one waits 100 + 200 - 50 = 250 ms.
        s.queueDelay = 100_000
        s.arrivalRate = 1_000_000
        s.queueReference = 2_000_000 + 100_000
        s.bytesSentAtQueueReference = 500_000
        s.transportBytesSent = 525_000
        XCTAssertEqual(s.pathQueueDelay(at: 2_050_000), 250_000)
        // Nothing more sent: the queue drains in real time.
        XCTAssertEqual(s.pathQueueDelay(at: 2_250_000), 50_000)
        XCTAssertEqual(s.pathQueueDelay(at: 2_400_000), 0)
        // With no arrival rate known, only what was measured, draining.
        s.arrivalRate = 0
        s.queueDelayMeasuredAt = 2_020_000
        XCTAssertEqual(s.pathQueueDelay(at: 2_050_000), 70_000)
    }

    /// Where playout-delay was negotiated (a browser offers it), every video packet carries the configured
    /// bounds (0, 0 by default: shown as soon as decoded) and no audio packet does; without it, none.
    func testPlayoutDelayRidesOnVideoPacketsWhereNegotiated() throws {
        for negotiated in [true, false] {
            var ids = RTPExtensionIDs.rtcbox
            ids.playoutDelay = negotiated ? 6 : nil
            let wire = try PeerWire(clientSends: [Self.video, Self.audio],
                                    serverReceives: [RTPTrack(codec: .h264, payloadType: 96, ssrc: 0, rtxPayloadType: 97, rtxSSRC: 0x1112),
                                                     RTPTrack(codec: .opus, payloadType: 111, ssrc: 0)], extensions: ids)
            var seen: [UInt8: (packets: Int, delays: Set<[UInt8]>)] = [:]
            wire.tapToServer = { datagram in
                // SRTP leaves the RTP header (and its extensions) in the clear; RTCP is 200-206 with the marker.
                guard let first = datagram.getInteger(at: datagram.readerIndex, as: UInt8.self), first >> 6 == 2,
                      let second = datagram.getInteger(at: datagram.readerIndex + 1, as: UInt8.self), !(200...206).contains(second),
                      let packet = try? RTPPacket.parse(datagram) else { return }
                var entry = seen[packet.payloadType] ?? (0, [])
                entry.packets += 1
                if let data = try? packet.headerExtensionElement(id: 6) { entry.delays.insert(Array(data.readableBytesView)) }
                seen[packet.payloadType] = entry
            }
            wire.start()
            wire.run(until: wire.now + 500_000)
            XCTAssertTrue(wire.connected)
            let begin = wire.now
            wire.run(until: begin + 300_000) { now in
                let t = now - begin
                if t % 33_000 == 0 {
                    let index = Int(t / 33_000)
                    wire.absorb(wire.client.send(RTPFrame(kind: .video, isKeyframe: index == 0, pts: Int64(index) * 33_333, dts: Int64(index) * 33_333,
                                                          captureTime: 0, payload: SyntheticVideo.accessUnit(index: index, keyframe: index == 0, size: 3000)),
                                                 now: now), fromClient: true)
                }
                if t % 20_000 == 0 {
                    wire.absorb(wire.client.send(RTPFrame(kind: .audio, isKeyframe: true, pts: t, dts: t, captureTime: 0,
                                                          payload: ByteBuffer(bytes: [0xFC, 1, 2, 3])), now: now), fromClient: true)
                }
            }
            let video = try XCTUnwrap(seen[96]), audio = try XCTUnwrap(seen[111])
            XCTAssertGreaterThan(video.packets, 10)
            XCTAssertGreaterThan(audio.packets, 10)
            XCTAssertEqual(video.delays, negotiated ? [[0, 0, 0]] : [], "negotiated: \(negotiated)")
            XCTAssertEqual(audio.delays, [], "negotiated: \(negotiated)")
        }
    }

    func testKeyframeRequestReachesSender() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        let frame = RTPFrame(kind: .video, isKeyframe: true, pts: 0, dts: 0, captureTime: 0,
                             payload: SyntheticVideo.accessUnit(index: 0, keyframe: true, size: 3000))
        wire.absorb(wire.client.send(frame, now: wire.now), fromClient: true)
        wire.run(until: wire.now + 100_000)
        wire.absorb(wire.server.requestKeyframe(now: wire.now), fromClient: false)
        wire.run(until: wire.now + 100_000)
        XCTAssertTrue(wire.clientEvents.contains(.keyframeRequested))
        XCTAssertEqual(wire.server.statistics.keyframeRequestsSent, 1)
    }

    func testClientGivesUpWhenUDPIsBlocked() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.blockToServer = true
        let begin = wire.now
        wire.start()
        wire.run(until: begin + 3_000_000)
        guard case .failed(let reason) = wire.client.state else { return XCTFail("client \(wire.client.state)") }
        XCTAssertTrue(reason.contains("no answer"), reason)
        XCTAssertEqual(wire.clientEvents.filter { if case .failed = $0 { return true }; return false }.count, 1)
        XCTAssertNil(wire.client.nextDeadline)
    }

    func testDropsDatagramsFromOtherAddressesAndGarbage() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected)
        let before = wire.server.statistics.datagramsDropped
        let stranger = TransportAddress("10.9.9.9:4000")!
        // An RTP-looking datagram from a stranger, garbage from the selected address, a forged SRTP packet.
        _ = wire.server.handle(datagram: ByteBuffer(bytes: [0x80, 96] + [UInt8](repeating: 1, count: 40)), from: stranger, now: wire.now)
        _ = wire.server.handle(datagram: ByteBuffer(bytes: [0xFF, 0, 1]), from: PeerWire.clientAddress, now: wire.now)
        _ = wire.server.handle(datagram: ByteBuffer(bytes: [0x80, 96] + [UInt8](repeating: 7, count: 60)), from: PeerWire.clientAddress, now: wire.now)
        XCTAssertEqual(wire.server.statistics.datagramsDropped, before + 3)
        XCTAssertEqual(wire.server.state, .connected)
    }

    /// An attacker on the path replays what the client sent, and floods the server from the client's own
    /// address: SRTP's replay check and authentication drop every one, each is counted, no frame comes twice,
    /// the process does not grow with the flood, and the real stream goes on exactly.
    func testReplaysAndFloodsAreDroppedCountedAndLeaveNoState() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        XCTAssertTrue(wire.connected)
        var captured: [ByteBuffer] = []
        wire.tapToServer = { datagram in
            switch PacketDemux.classify(datagram) {
            case .rtp, .rtcp: captured.append(datagram)
            default: break
            }
        }
        var index = 0
        let send = { (now: Int64) in
            guard now % 33_000 < 1000 else { return }
            let key = index % 30 == 0
            let frame = RTPFrame(kind: .video, isKeyframe: key, pts: Int64(index) * 33_333, dts: Int64(index) * 33_333, captureTime: 0,
                                 payload: SyntheticVideo.accessUnit(index: index, keyframe: key, size: key ? 9000 : 2500))
            index += 1
            wire.absorb(wire.client.send(frame, now: now), fromClient: true)
        }
        wire.run(until: wire.now + 1_000_000, each: send)
        wire.run(until: wire.now + 300_000)
        wire.tapToServer = nil
        // What was captured last may still be on the wire: its first arrival is the original, not a replay.
        wire.run(until: wire.now + 100_000)
        let framesBefore = wire.serverFrames.count
        XCTAssertEqual(framesBefore, index)
        XCTAssertGreaterThan(captured.count, 60)

        let dropped = wire.server.statistics.datagramsDropped
        for _ in 0..<20 {
            for datagram in captured { wire.absorb(wire.server.handle(datagram: datagram, from: PeerWire.clientAddress, now: wire.now), fromClient: false) }
        }
        XCTAssertEqual(wire.server.statistics.datagramsDropped, dropped + 20 * captured.count, "every replay dropped and counted")
        XCTAssertEqual(wire.serverFrames.count, framesBefore, "no frame twice")

        var rng = SplitMix64(seed: 7)
        let residentBefore = Self.residentBytes()
        for _ in 0..<20_000 {
            // RTP- and RTCP-looking garbage: version 2, a media or RTCP payload type, random bytes.
            let size = 12 + Int(rng.next() % 1100)
            var bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bytes[0] = 0x80 | (bytes[0] & 0x3F)
            bytes[1] = rng.next() % 2 == 0 ? 96 : 200
            _ = wire.server.handle(datagram: ByteBuffer(bytes: bytes), from: PeerWire.clientAddress, now: wire.now)
        }
        let growth = Self.residentBytes() - residentBefore
        XCTAssertEqual(wire.server.statistics.datagramsDropped, dropped + 20 * captured.count + 20_000)
        XCTAssertLessThan(growth, 4 << 20, "the flood grew the process by \(growth) bytes")
        XCTAssertEqual(wire.server.state, .connected)

        let sentBefore = index
        wire.run(until: wire.now + 1_000_000, each: send)
        wire.run(until: wire.now + 300_000)
        XCTAssertEqual(wire.serverFrames.count - framesBefore, index - sentBefore, "the stream goes on")
        XCTAssertEqual(wire.serverFrames.last?.payload,
                       SyntheticVideo.accessUnit(index: index - 1, keyframe: (index - 1) % 30 == 0, size: (index - 1) % 30 == 0 ? 9000 : 2500))
    }

    /// The resident set size (Linux: /proc/self/statm's second field, in pages).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    func testSendBeforeConnectedIsCountedNotSent() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        let frame = RTPFrame(kind: .video, isKeyframe: true, pts: 0, dts: 0, captureTime: 0, payload: ByteBuffer(bytes: [0, 0, 0, 1, 0x65, 1]))
        let out = wire.client.send(frame, now: wire.now)
        XCTAssertTrue(out.datagrams.isEmpty)
        XCTAssertEqual(wire.client.statistics.framesNotSent, 1)
    }

    func testCloseSendsByeAndEndsBothSides() throws {
        let wire = try PeerWire(clientSends: [Self.video], serverReceives: [Self.video])
        wire.start()
        wire.run(until: wire.now + 500_000)
        wire.absorb(wire.client.close(now: wire.now), fromClient: true)
        wire.run(until: wire.now + 100_000)
        XCTAssertEqual(wire.client.state, .closed)
        XCTAssertEqual(wire.server.state, .closed)
        XCTAssertTrue(wire.serverEvents.contains(.closed))
    }
}

final class RTCPExtendedReportTests: XCTestCase {
    func testGoldenRRTRAndDLRR() throws {
        let xr = RTCPExtendedReport(ssrc: 0x0102_0304, receiverReferenceTime: NTPTimestamp(rawValue: 0xAABB_CCDD_1122_3344),
                                    dlrr: [.init(ssrc: 0x0506_0708, lastReceiverReport: 0xCCDD_1122, delaySinceLastReceiverReport: 0x0001_8000)])
        let bytes: [UInt8] = [
            0x80, 207, 0x00, 0x08,             // V=2, PT=XR, length: 9 words - 1
            0x01, 0x02, 0x03, 0x04,            // SSRC
            4, 0, 0x00, 0x02,                  // RRTR, block length 2
            0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x22, 0x33, 0x44,
            5, 0, 0x00, 0x03,                  // DLRR, one sub-block
            0x05, 0x06, 0x07, 0x08, 0xCC, 0xDD, 0x11, 0x22, 0x00, 0x01, 0x80, 0x00,
        ]
        XCTAssertEqual(Array(xr.serialized().readableBytesView), bytes)
        XCTAssertEqual(try RTCPExtendedReport.parse(ByteBuffer(bytes: bytes)), xr)
        // Through the compound parser it is an unknown packet that parses back.
        let packets = try RTCPPacket.parseCompound(ByteBuffer(bytes: bytes))
        XCTAssertEqual(try packets.first.flatMap { try RTCPExtendedReport.parse($0) }, xr)
    }

    func testUnknownBlocksSkippedAndOverrunRefused() throws {
        let bytes: [UInt8] = [0x80, 207, 0x00, 0x03, 0, 0, 0, 9, 7, 0, 0x00, 0x01, 1, 2, 3, 4]
        XCTAssertEqual(try RTCPExtendedReport.parse(ByteBuffer(bytes: bytes)), RTCPExtendedReport(ssrc: 9))
        let overrun: [UInt8] = [0x80, 207, 0x00, 0x02, 0, 0, 0, 9, 5, 0, 0x00, 0x09]
        XCTAssertThrowsError(try RTCPExtendedReport.parse(ByteBuffer(bytes: overrun)))
        XCTAssertThrowsError(try RTCPExtendedReport.parse(ByteBuffer(bytes: [0x80, 207])))
    }

    func testFrameTimingGolden() throws {
        let timing = RTPFrameTiming(pts: 0x0102_0304_0506_0708, dts: 0x0102_0304_0506_0708 - 2, flags: 5)
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFF, 0xFF, 0xFE, 5]
        XCTAssertEqual(Array(timing.data.readableBytesView), bytes)
        XCTAssertEqual(try RTPFrameTiming.parse(ByteBuffer(bytes: bytes)), timing)
        XCTAssertThrowsError(try RTPFrameTiming.parse(ByteBuffer(bytes: Array(bytes.prefix(12)))))
    }

    /// bench/loss's `udp-nopace` system: only `RTCBOX_RTP_PACING=off` switches the pacer off, and only its rate.
    func testPacingExperimentOnlyChangesThePacingFactor() {
        let standard = RTPPeer.Configuration()
        var unchanged = standard
        unchanged.applyExperiments(["RTCBOX_RTP_PACING": "on", "PATH": "/bin"])
        XCTAssertEqual(unchanged.pacer.pacingFactor, standard.pacer.pacingFactor)
        var off = standard
        off.applyExperiments(["RTCBOX_RTP_PACING": "off"])
        XCTAssertEqual(off.pacer.pacingFactor, 10_000)
        XCTAssertEqual(off.pacer.maxQueueTime, standard.pacer.maxQueueTime)
        XCTAssertEqual(off.pacer.burstInterval, standard.pacer.burstInterval)
    }
}
