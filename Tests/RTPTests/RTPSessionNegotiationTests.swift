import XCTest

@testable import RTP

final class RTPSessionNegotiationTests: XCTestCase {
    // Fixed values, so the SDP text is golden.
    let clientICE = ICECredentials(ufrag: "cLnT", password: "clientpassword0123456789")
    let serverICE = ICECredentials(ufrag: "sRvR", password: "serverpassword0123456789")
    let clientFingerprint = DTLSFingerprint(algorithm: .sha256, digest: Array(0..<32))
    let serverFingerprint = DTLSFingerprint(algorithm: .sha256, digest: Array(repeating: 0xAB, count: 32))
    let serverAddress = TransportAddress(ip: .v4(0xCB00_7101), port: 3479)  // 203.0.113.1
    /// AAC-LC, 48 kHz, stereo.
    let asc: [UInt8] = [0x11, 0x90]

    /// What `rtcbox publish` offers: H.264 with RTX, AAC 48 kHz stereo with RTX, sendonly, DTLS client.
    func publisherOffer() throws -> RTPMediaOffer {
        let ice = try XCTUnwrap(clientICE)
        return RTPMediaOffer(
            sessionID: "1234567890", iceCredentials: ice, fingerprint: clientFingerprint, setup: .active,
            cname: "rtcbox-c1",
            media: [
                RTPMediaSection(mid: "0", kind: .video, direction: .sendonly,
                                formats: [RTPPayloadFormat(codec: .h264, payloadType: 96, rtxPayloadType: 97)],
                                ssrc: 1111, rtxSSRC: 2222),
                RTPMediaSection(mid: "1", kind: .audio, direction: .sendonly,
                                formats: [RTPPayloadFormat(codec: .aac(clockRate: 48000, channels: 2, audioSpecificConfig: asc),
                                                           payloadType: 98, rtxPayloadType: 99)],
                                ssrc: 3333, rtxSSRC: 4444),
            ])
    }

    func serverAnswer(to offer: RTPMediaOffer, sending: [RTPTrack] = [], receiving: Set<RTPMediaKind> = [.audio, .video])
        throws -> RTPMediaOffer
    {
        try RTPMediaOffer.answer(
            to: offer, sessionID: "42", iceCredentials: XCTUnwrap(serverICE), iceLite: true,
            fingerprint: serverFingerprint, candidates: [serverAddress], cname: "rtcbox-s", sending: sending,
            receiving: receiving)
    }

    static let publisherOfferText = """
        v=0
        o=- 1234567890 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=ice-ufrag:cLnT
        a=ice-pwd:clientpassword0123456789
        a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F
        a=setup:active
        a=group:BUNDLE 0 1
        m=video 9 UDP/TLS/RTP/SAVPF 96 97
        c=IN IP4 0.0.0.0
        a=end-of-candidates
        a=mid:0
        a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
        a=extmap:2 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 urn:rtcbox:frame-timing
        a=sendonly
        a=rtcp-mux
        a=rtpmap:96 H264/90000
        a=rtpmap:97 rtx/90000
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 transport-cc
        a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1
        a=fmtp:97 apt=96
        a=ssrc-group:FID 1111 2222
        a=ssrc:1111 cname:rtcbox-c1
        a=ssrc:2222 cname:rtcbox-c1
        m=audio 9 UDP/TLS/RTP/SAVPF 98 99
        c=IN IP4 0.0.0.0
        a=mid:1
        a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
        a=extmap:2 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 urn:rtcbox:frame-timing
        a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=sendonly
        a=rtcp-mux
        a=rtpmap:98 mpeg4-generic/48000/2
        a=rtpmap:99 rtx/48000
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 transport-cc
        a=fmtp:98 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190
        a=fmtp:99 apt=98
        a=ssrc-group:FID 3333 4444
        a=ssrc:3333 cname:rtcbox-c1
        a=ssrc:4444 cname:rtcbox-c1

        """.sdpCRLF

    static let serverAnswerText = """
        v=0
        o=- 42 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=ice-lite
        a=ice-ufrag:sRvR
        a=ice-pwd:serverpassword0123456789
        a=fingerprint:sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB
        a=setup:passive
        a=group:BUNDLE 0 1
        m=video 9 UDP/TLS/RTP/SAVPF 96 97
        c=IN IP4 0.0.0.0
        a=candidate:1 1 udp 2130706431 203.0.113.1 3479 typ host
        a=end-of-candidates
        a=mid:0
        a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
        a=extmap:2 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 urn:rtcbox:frame-timing
        a=recvonly
        a=rtcp-mux
        a=rtpmap:96 H264/90000
        a=rtpmap:97 rtx/90000
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 transport-cc
        a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1
        a=fmtp:97 apt=96
        m=audio 9 UDP/TLS/RTP/SAVPF 98 99
        c=IN IP4 0.0.0.0
        a=mid:1
        a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
        a=extmap:2 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 urn:rtcbox:frame-timing
        a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=recvonly
        a=rtcp-mux
        a=rtpmap:98 mpeg4-generic/48000/2
        a=rtpmap:99 rtx/48000
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 transport-cc
        a=fmtp:98 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190
        a=fmtp:99 apt=98

        """.sdpCRLF

    func testPublisherOfferGolden() throws {
        let offer = try publisherOffer()
        XCTAssertEqual(offer.sessionDescription().serialized(), Self.publisherOfferText)
        XCTAssertEqual(try RTPMediaOffer(parsing: Self.publisherOfferText), offer)
    }

    func testServerAnswerToPublishGolden() throws {
        let answer = try serverAnswer(to: publisherOffer())
        XCTAssertEqual(answer.sessionDescription().serialized(), Self.serverAnswerText)
        XCTAssertEqual(try RTPMediaOffer(parsing: Self.serverAnswerText), answer)
        // The client reads the answer it got as text.
        XCTAssertEqual(try RTPMediaOffer(parsing: answer.sessionDescription().serialized()).candidates, [serverAddress])
    }

    func testPublishPeerParametersBothWays() throws {
        let offer = try publisherOffer()
        let answer = try serverAnswer(to: offer)
        let client = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: answer)
        let aac = RTPCodec.aac(clockRate: 48000, channels: 2, audioSpecificConfig: asc)
        let sent = [RTPTrack(codec: .h264, payloadType: 96, ssrc: 1111, rtxPayloadType: 97, rtxSSRC: 2222),
                    RTPTrack(codec: aac, payloadType: 98, ssrc: 3333, rtxPayloadType: 99, rtxSSRC: 4444)]
        XCTAssertEqual(client.sendTracks, sent)
        XCTAssertEqual(client.receiveTracks, [])
        XCTAssertEqual(client.remoteAddress, serverAddress)
        XCTAssertEqual(client.remoteICE, serverICE)
        XCTAssertEqual(client.localICE, clientICE)
        XCTAssertEqual(client.remoteFingerprint, serverFingerprint)
        XCTAssertEqual(client.extensions, .rtcbox)

        let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
        XCTAssertEqual(server.receiveTracks, sent)
        XCTAssertEqual(server.sendTracks, [])
        XCTAssertNil(server.remoteAddress)
        XCTAssertEqual(server.remoteICE, clientICE)
        XCTAssertEqual(server.remoteFingerprint, clientFingerprint)
        XCTAssertEqual(server.extensions, .rtcbox)
        // The roles must be the ones a=setup says.
        XCTAssertThrowsError(try RTPMediaOffer.peerParameters(role: .server, local: offer, remote: answer)) {
            XCTAssertEqual($0 as? RTPNegotiationError, .incompatibleSetup(.active))
        }
    }

    func testPlayAnswerSendsTheStreamsTracks() throws {
        // A player offers recvonly: H.264 (two payload types, the first without RTX) and AAC with a placeholder config.
        var offer = try publisherOffer()
        offer.media[0] = RTPMediaSection(mid: "0", kind: .video, direction: .recvonly, formats: [
            RTPPayloadFormat(codec: .h264, payloadType: 102, rtxPayloadType: 103),
            RTPPayloadFormat(codec: .h264, payloadType: 96, rtxPayloadType: 97),
        ])
        offer.media[1] = RTPMediaSection(mid: "1", kind: .audio, direction: .recvonly, formats: [
            RTPPayloadFormat(codec: .opus, payloadType: 111),
            RTPPayloadFormat(codec: .aac(clockRate: 48000, channels: 2, audioSpecificConfig: [0x11, 0x88]), payloadType: 98),
        ])
        let aac = RTPCodec.aac(clockRate: 48000, channels: 2, audioSpecificConfig: asc)
        let sending = [RTPTrack(codec: .h264, payloadType: 0, ssrc: 5555, rtxSSRC: 6666),
                       RTPTrack(codec: aac, payloadType: 0, ssrc: 7777)]
        let answer = try serverAnswer(to: offer, sending: sending, receiving: [])
        XCTAssertEqual(answer.media, [
            RTPMediaSection(mid: "0", kind: .video, direction: .sendonly,
                            formats: [RTPPayloadFormat(codec: .h264, payloadType: 102, rtxPayloadType: 103)],
                            ssrc: 5555, rtxSSRC: 6666),
            // The stream's config, not the offer's; no RTX SSRC, so no RTX.
            RTPMediaSection(mid: "1", kind: .audio, direction: .sendonly,
                            formats: [RTPPayloadFormat(codec: aac, payloadType: 98)], ssrc: 7777),
        ])
        let text = answer.sessionDescription().serialized()
        XCTAssertTrue(text.contains("a=ssrc-group:FID 5555 6666\r\n"))
        XCTAssertTrue(text.contains("a=ssrc:7777 cname:rtcbox-s\r\n"))
        XCTAssertEqual(try RTPMediaOffer(parsing: text), answer)

        let player = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: answer)
        XCTAssertEqual(player.receiveTracks, [
            RTPTrack(codec: .h264, payloadType: 102, ssrc: 5555, rtxPayloadType: 103, rtxSSRC: 6666),
            RTPTrack(codec: aac, payloadType: 98, ssrc: 7777),
        ])
        let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
        XCTAssertEqual(server.sendTracks, [
            RTPTrack(codec: .h264, payloadType: 102, ssrc: 5555, rtxPayloadType: 103, rtxSSRC: 6666),
            RTPTrack(codec: aac, payloadType: 98, ssrc: 7777),
        ])

        // A video-only stream: the audio section is answered inactive, not refused.
        let videoOnly = try serverAnswer(to: offer, sending: [sending[0]], receiving: [])
        XCTAssertEqual(videoOnly.media.map(\.direction), [.sendonly, .inactive])
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .server, local: videoOnly, remote: offer).sendTracks.count, 1)
    }

    func testChromeOffer() throws {
        let offer = try RTPMediaOffer(parsing: SDPFixtures.chromeOffer)
        XCTAssertEqual(offer.iceCredentials, ICECredentials(ufrag: "EsAw", password: "bP+XJMM09aR8AiX1jdukzR6Y"))
        XCTAssertEqual(offer.fingerprint.sdpValue, "sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F")
        XCTAssertEqual(offer.setup, .actpass)
        XCTAssertFalse(offer.iceLite)
        // Host UDP only: not the srflx, not the TCP candidate.
        XCTAssertEqual(offer.candidates, [TransportAddress(ip: .v4(0xC0A8_010A), port: 54321)])
        XCTAssertEqual(offer.cname, "x3Dv1rJ4Kz0Q9nGb")
        XCTAssertEqual(offer.media, [
            // Opus with its RED 63 (G.722, PCMU/A, CN, telephone-event dropped); its own rtcp-fb lines.
            RTPMediaSection(mid: "0", kind: .audio, direction: .sendrecv,
                            formats: [RTPPayloadFormat(codec: .opus, payloadType: 111, redPayloadType: 63)], ssrc: 3735928559,
                            feedback: [.transportCC], extensions: RTPExtensionIDs(transportWideSequenceNumber: 3, mid: 4, audioLevel: 1)),
            // H.264 102 with RTX 103 (VP8 dropped), the FID pair.
            RTPMediaSection(mid: "1", kind: .video, direction: .sendrecv,
                            formats: [RTPPayloadFormat(codec: .h264, payloadType: 102, rtxPayloadType: 103)],
                            ssrc: 2863311530, rtxSSRC: 1431655765, feedback: .video,
                            extensions: RTPExtensionIDs(transportWideSequenceNumber: 3, mid: 4, playoutDelay: 5)),
        ])
        // The server answers a browser's publish: recvonly both, the offer's ids, ice-lite, passive.
        let answer = try serverAnswer(to: offer)
        XCTAssertEqual(answer.media.map(\.direction), [.recvonly, .recvonly])
        XCTAssertEqual(answer.media.map(\.extensions), offer.media.map(\.extensions))
        XCTAssertEqual(try RTPMediaOffer(parsing: answer.sessionDescription().serialized()), answer)
        let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
        XCTAssertEqual(server.receiveTracks, [
            RTPTrack(codec: .opus, payloadType: 111, ssrc: 3735928559),
            RTPTrack(codec: .h264, payloadType: 102, ssrc: 2863311530, rtxPayloadType: 103, rtxSSRC: 1431655765),
        ])
        XCTAssertEqual(server.extensions, RTPExtensionIDs(transportWideSequenceNumber: 3, mid: 4, audioLevel: 1, playoutDelay: 5),
                       "Chrome's audio level (RFC 6464) is taken: its sound level reaches the room; playout-delay on video")
        // By default the answer leaves RED out (Chrome then sends plain Opus); a side that takes it keeps it.
        XCTAssertEqual(answer.media[0].formats, [RTPPayloadFormat(codec: .opus, payloadType: 111)])
        let withRED = try RTPMediaOffer.answer(
            to: offer, sessionID: "42", iceCredentials: XCTUnwrap(serverICE), iceLite: true, fingerprint: serverFingerprint,
            candidates: [serverAddress], cname: "rtcbox-s", sending: [], receiving: [.audio, .video], receivingRedundancy: true)
        let text = withRED.sessionDescription().serialized()
        XCTAssertTrue(text.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n"), text)
        XCTAssertTrue(text.contains("a=rtpmap:63 red/48000/2\r\n"))
        XCTAssertTrue(text.contains("a=fmtp:63 111/111\r\n"))
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .server, local: withRED, remote: offer).receiveTracks[0],
                       RTPTrack(codec: .opus, payloadType: 111, ssrc: 3735928559, redPayloadType: 63))
    }

    func testFirefoxOffer() throws {
        let offer = try RTPMediaOffer(parsing: SDPFixtures.firefoxOffer)
        // Session-level fingerprint; mDNS host candidates are not addresses.
        XCTAssertEqual(offer.fingerprint.algorithm, .sha256)
        XCTAssertEqual(offer.candidates, [])
        XCTAssertEqual(offer.media.map(\.formats), [
            [RTPPayloadFormat(codec: .opus, payloadType: 109)],
            // 126 (packetization-mode=1) with RTX 127; 97 (mode 0) dropped.
            [RTPPayloadFormat(codec: .h264, payloadType: 126, rtxPayloadType: 127)],
        ])
        XCTAssertEqual(offer.media[1].ssrc, 2345678901)
        XCTAssertEqual(offer.media[1].rtxSSRC, 3456789012)
    }

    func testRefusals() throws {
        let good = Self.publisherOfferText
        func refusal(_ text: String) -> RTPNegotiationError? {
            do {
                _ = try RTPMediaOffer(parsing: text)
                return nil
            } catch {
                return error as? RTPNegotiationError
            }
        }
        func without(_ prefix: String) -> String {
            good.split(separator: "\r\n").filter { !$0.hasPrefix(prefix) }.joined(separator: "\r\n") + "\r\n"
        }
        func replacing(_ a: String, _ b: String) -> String { good.replacingOccurrences(of: a, with: b) }
        XCTAssertEqual(refusal(without("a=ice-pwd")), .missingICECredentials)
        XCTAssertEqual(refusal(replacing("a=ice-ufrag:cLnT", "a=ice-ufrag:c")), .invalidICECredentials)
        XCTAssertEqual(refusal(without("a=fingerprint")), .missingFingerprint)
        XCTAssertEqual(refusal(replacing("sha-256 00:01:02", "md5 00:01:02")), .unsupportedFingerprint("md5"))
        XCTAssertEqual(refusal(replacing("sha-256 00:01:02:", "sha-256 01:02:")), .unsupportedFingerprint("sha-256"))
        XCTAssertEqual(refusal(without("a=setup")), .missingSetup)
        XCTAssertEqual(refusal(replacing("a=setup:active", "a=setup:holdconn")), .incompatibleSetup(.holdconn))
        XCTAssertEqual(refusal(without("a=rtcp-mux")), .rtcpMuxRequired(mid: "0"))
        XCTAssertEqual(refusal(without("a=group")), .notBundled(mid: "0"))
        XCTAssertEqual(refusal(replacing("a=group:BUNDLE 0 1", "a=group:BUNDLE 0")), .notBundled(mid: "1"))
        XCTAssertEqual(refusal(replacing("a=mid:1", "a=mid:0")), .duplicateMid("0"))
        XCTAssertEqual(refusal(without("a=mid:1")), .missingMid(section: 1))
        XCTAssertEqual(refusal(replacing("m=audio", "m=video")), .duplicateMediaKind(.video))
        XCTAssertEqual(refusal(replacing("m=audio", "m=application")), .unsupportedMedia(mid: "1", kind: "application"))
        XCTAssertEqual(refusal(replacing(" 9 UDP", " 0 UDP")), .noMedia)
        // H.264 in mode 0, AAC with a bad config, an audio codec in a video section: none is carried.
        XCTAssertEqual(refusal(replacing("packetization-mode=1;", "")), .noSupportedCodec(mid: "0", offered: ["H264"]))
        XCTAssertEqual(refusal(replacing("config=1190", "config=+1")), .noSupportedCodec(mid: "1", offered: ["mpeg4-generic"]))
        XCTAssertEqual(refusal(replacing("config=1190", "config=119")), .noSupportedCodec(mid: "1", offered: ["mpeg4-generic"]))
        XCTAssertEqual(refusal(replacing("96 H264/90000", "96 opus/48000/2")), .noSupportedCodec(mid: "0", offered: ["opus"]))
        // Not SDP at all: the parser's error.
        XCTAssertThrowsError(try RTPMediaOffer(parsing: "hello")) { XCTAssertTrue($0 is SDPParseError) }
        // Every refusal reads as one line.
        XCTAssertEqual(RTPNegotiationError.noSupportedCodec(mid: "0", offered: ["VP8"]).description,
                       "media section 0 has no codec rtcbox supports (H264 packetization-mode=1, opus, mpeg4-generic AAC-hbr); offered: VP8")
    }

    func testAnswerRefusals() throws {
        let offer = try publisherOffer()
        // The offer plays 48 kHz AAC; this side would send 44.1 kHz.
        var play = offer
        play.media = offer.media.map { s in var s = s; s.direction = .recvonly; s.ssrc = nil; s.rtxSSRC = nil; return s }
        let aac44 = RTPTrack(codec: .aac(clockRate: 44100, channels: 2, audioSpecificConfig: [0x12, 0x10]), payloadType: 0, ssrc: 9)
        XCTAssertThrowsError(try serverAnswer(to: play, sending: [aac44], receiving: [])) {
            XCTAssertEqual($0 as? RTPNegotiationError, .noSupportedCodec(mid: "1", offered: ["mpeg4-generic/48000/2"]))
        }
        // A passive offer cannot be answered passive; two lite agents cannot run ICE.
        var passive = offer
        passive.setup = .passive
        XCTAssertThrowsError(try serverAnswer(to: passive)) {
            XCTAssertEqual($0 as? RTPNegotiationError, .incompatibleSetup(.passive))
        }
        var lite = offer
        lite.iceLite = true
        XCTAssertThrowsError(try serverAnswer(to: lite)) { XCTAssertEqual($0 as? RTPNegotiationError, .bothICELite) }
        // An answer that left out a section.
        var answer = try serverAnswer(to: offer)
        answer.media.removeLast()
        XCTAssertThrowsError(try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: answer)) {
            XCTAssertEqual($0 as? RTPNegotiationError, .unansweredMedia(mid: "1"))
        }
    }

    func testRoundTrips() throws {
        var offer = try publisherOffer()
        XCTAssertEqual(try RTPMediaOffer(offer.sessionDescription()), offer)
        offer.candidates = [serverAddress, TransportAddress(ip: .v6(high: 0x2001_0db8_0000_0000, low: 1), port: 9)]
        offer.iceLite = true
        offer.media[0].extensions = RTPExtensionIDs(mid: 9)
        offer.media[1].feedback = []
        offer.media[1].direction = .sendrecv
        offer.media[1].formats.append(RTPPayloadFormat(codec: .opus, payloadType: 111))
        XCTAssertEqual(try RTPMediaOffer(parsing: offer.sessionDescription().serialized()), offer)
    }
}

extension RTPSessionNegotiationTests {
    /// rtcbox's audio formats with RED: Opus 111 (RTX 112) with RED 63, AAC 100 (RTX 101) with RED 102; none
    /// clashes with H.264 96/97.
    static let opusRED = RTPPayloadFormat(codec: .opus, payloadType: 111, rtxPayloadType: 112, redPayloadType: 63)
    var aacRED: RTPPayloadFormat {
        RTPPayloadFormat(codec: .aac(clockRate: 48000, channels: 2, audioSpecificConfig: asc), payloadType: 100,
                         rtxPayloadType: 101, redPayloadType: 102)
    }

    func testSDPRoundTripWithAndWithoutRED() throws {
        var offer = try publisherOffer()
        offer.media[1].formats = [Self.opusRED, aacRED]
        let text = offer.sessionDescription().serialized()
        for line in ["m=audio 9 UDP/TLS/RTP/SAVPF 111 112 63 100 101 102", "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111",
                     "a=rtpmap:102 red/48000/2", "a=fmtp:102 100/100", "a=fmtp:112 apt=111"] {
            XCTAssertTrue(text.contains(line + "\r\n"), line)
        }
        XCTAssertFalse(text.contains("a=rtcp-fb:63"), "RED takes the primary's feedback, it has none of its own")
        XCTAssertEqual(try RTPMediaOffer(parsing: text), offer)
        // Without: no red line, and none read back (the goldens of the tests above are unchanged).
        let plain = try publisherOffer().sessionDescription().serialized()
        XCTAssertFalse(plain.lowercased().contains("red/"))
        XCTAssertEqual(try RTPMediaOffer(parsing: plain).media.flatMap(\.formats).compactMap(\.redPayloadType), [])
    }

    func testREDIsReadOnlyForAnAudioPrimaryOfTheSameClock() throws {
        var offer = try publisherOffer()
        offer.media[1].formats = [Self.opusRED]
        let text = offer.sessionDescription().serialized()
        func red(_ edited: String) throws -> UInt8? {
            try RTPMediaOffer(parsing: edited).media[1].formats.first?.redPayloadType
        }
        XCTAssertEqual(try red(text), 63)
        XCTAssertEqual(try red(text.replacingOccurrences(of: "a=fmtp:63 111/111\r\n", with: "a=fmtp:63 111/111/111\r\n")), 63)
        XCTAssertNil(try red(text.replacingOccurrences(of: "a=fmtp:63 111/111\r\n", with: "")), "no fmtp: no primary")
        XCTAssertNil(try red(text.replacingOccurrences(of: "a=fmtp:63 111/111", with: "a=fmtp:63 111/0")), "another codec's blocks")
        XCTAssertNil(try red(text.replacingOccurrences(of: "a=fmtp:63 111/111", with: "a=fmtp:63 110/110")), "no such primary")
        XCTAssertNil(try red(text.replacingOccurrences(of: "a=fmtp:63 111/111", with: "a=fmtp:63 111")))
        XCTAssertNil(try red(text.replacingOccurrences(of: "63 red/48000/2", with: "63 red/8000/1")), "another clock")
        // In a video section `red` is ULPFEC's wrapper: not read.
        let video = Self.publisherOfferText.replacingOccurrences(of: "SAVPF 96 97\r\n", with: "SAVPF 96 97 98\r\n")
            .replacingOccurrences(of: "a=fmtp:97 apt=96\r\n", with: "a=fmtp:97 apt=96\r\na=rtpmap:98 red/90000\r\na=fmtp:98 96/96\r\n")
        XCTAssertNil(try RTPMediaOffer(parsing: video).media[0].formats[0].redPayloadType)
        XCTAssertNil(RTPPayloadFormat(codec: .h264, payloadType: 96, redPayloadType: 98).redPayloadType)
        XCTAssertNil(RTPTrack(codec: .h264, payloadType: 96, ssrc: 1, redPayloadType: 98).redPayloadType)
    }

    func testREDOnlyWhenBothSidesListIt() throws {
        // A publisher offers Opus with RED; the server answers (receiving) without it unless it takes RED.
        var offer = try publisherOffer()
        offer.media[1].formats = [Self.opusRED]
        let plainAnswer = try serverAnswer(to: offer)
        XCTAssertNil(plainAnswer.media[1].formats[0].redPayloadType)
        let client = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: plainAnswer)
        XCTAssertNil(client.sendTracks[1].redPayloadType, "an answer without RED: none")
        let redAnswer = try RTPMediaOffer.answer(
            to: offer, sessionID: "42", iceCredentials: XCTUnwrap(serverICE), iceLite: true, fingerprint: serverFingerprint,
            candidates: [serverAddress], cname: "rtcbox-s", sending: [], receiving: [.audio, .video], receivingRedundancy: true)
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: redAnswer).sendTracks[1],
                       RTPTrack(codec: .opus, payloadType: 111, ssrc: 3333, rtxPayloadType: 112, rtxSSRC: 4444, redPayloadType: 63))
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .server, local: redAnswer, remote: offer).receiveTracks[1],
                       RTPTrack(codec: .opus, payloadType: 111, ssrc: 3333, rtxPayloadType: 112, rtxSSRC: 4444, redPayloadType: 63))
        // An answer with a RED the offer did not have (or under another payload type) gives none.
        var noREDOffer = offer
        noREDOffer.media[1].formats = [RTPPayloadFormat(codec: .opus, payloadType: 111, rtxPayloadType: 112)]
        XCTAssertNil(try RTPMediaOffer.peerParameters(role: .client, local: noREDOffer, remote: redAnswer).sendTracks[1].redPayloadType)
        var otherPT = redAnswer
        otherPT.media[1].formats[0].redPayloadType = 64
        XCTAssertNil(try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: otherPT).sendTracks[1].redPayloadType)

        // A player offers RED for both its audio codecs; the server sends RED when its track asks for it
        // (any payload type: the offer's is used).
        var play = try publisherOffer()
        play.media = play.media.map { s in var s = s; s.direction = .recvonly; s.ssrc = nil; s.rtxSSRC = nil; return s }
        play.media[1].formats = [aacRED, Self.opusRED]
        let aac = RTPCodec.aac(clockRate: 48000, channels: 2, audioSpecificConfig: asc)
        let withRED = try serverAnswer(to: play, sending: [RTPTrack(codec: aac, payloadType: 0, ssrc: 7777, redPayloadType: 1)], receiving: [])
        XCTAssertEqual(withRED.media[1].formats, [RTPPayloadFormat(codec: aac, payloadType: 100, redPayloadType: 102)])
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .server, local: withRED, remote: play).sendTracks,
                       [RTPTrack(codec: aac, payloadType: 100, ssrc: 7777, redPayloadType: 102)])
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .client, local: play, remote: withRED).receiveTracks,
                       [RTPTrack(codec: aac, payloadType: 100, ssrc: 7777, redPayloadType: 102)])
        let withoutRED = try serverAnswer(to: play, sending: [RTPTrack(codec: aac, payloadType: 0, ssrc: 7777)], receiving: [])
        XCTAssertEqual(withoutRED.media[1].formats, [RTPPayloadFormat(codec: aac, payloadType: 100)])
        XCTAssertEqual(try RTPMediaOffer.peerParameters(role: .client, local: play, remote: withoutRED).receiveTracks,
                       [RTPTrack(codec: aac, payloadType: 100, ssrc: 7777)])
    }
}

extension String {
    fileprivate var sdpCRLF: String { replacingOccurrences(of: "\n", with: "\r\n") }
}
