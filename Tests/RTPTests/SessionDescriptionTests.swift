import XCTest

@testable import RTP

final class SessionDescriptionTests: XCTestCase {
    func testChromeOffer() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.chromeOffer)
        XCTAssertEqual(sdp.origin, SDPOrigin(sessionID: "4611731400430051336", sessionVersion: 2))
        XCTAssertEqual(sdp.bundleMids, ["0", "1"])
        XCTAssertEqual(sdp.msidSemantic, SDPMsidSemantic(semantic: "WMS", identifiers: ["5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5"]))
        XCTAssertEqual(sdp.otherAttributes, [SDPAttribute(name: "extmap-allow-mixed")])
        XCTAssertEqual(sdp.media.count, 2)

        let audio = sdp.media[0]
        XCTAssertEqual(audio.kind, "audio")
        XCTAssertEqual(audio.port, 9)
        XCTAssertEqual(audio.proto, "UDP/TLS/RTP/SAVPF")
        XCTAssertEqual(audio.formats, ["111", "63", "9", "0", "8", "13", "110", "126"])
        XCTAssertEqual(audio.connection, SDPConnection())
        XCTAssertEqual(audio.mid, "0")
        XCTAssertEqual(audio.direction, .sendrecv)
        XCTAssertEqual(audio.iceUfrag, "EsAw")
        XCTAssertEqual(audio.icePassword, "bP+XJMM09aR8AiX1jdukzR6Y")
        XCTAssertEqual(audio.iceOptions, ["trickle"])
        XCTAssertEqual(audio.setup, .actpass)
        XCTAssertTrue(audio.rtcpMux)
        XCTAssertFalse(audio.rtcpReducedSize)
        XCTAssertEqual(audio.fingerprints.first?.hashFunction, "sha-256")
        XCTAssertEqual(audio.fingerprints.first?.bytes.count, 32)
        XCTAssertEqual(audio.fingerprints.first?.bytes.prefix(3), [0xD2, 0xFA, 0x0E])
        XCTAssertEqual(audio.rtpMap(payloadType: 111), SDPRTPMap(payloadType: 111, encoding: "opus", clockRate: 48000, channels: 2))
        XCTAssertEqual(audio.formatParameters(payloadType: 111)?["useinbandfec"], "1")
        XCTAssertEqual(audio.rtcpFeedback(payloadType: 111), [SDPRTCPFeedback(format: "111", type: "transport-cc")])
        XCTAssertEqual(audio.extensionMaps[2],
                       SDPExtMap(id: 3, uri: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"))
        XCTAssertEqual(audio.otherAttributes, [SDPAttribute(name: "rtcp", value: "9 IN IP4 0.0.0.0")])
        XCTAssertEqual(audio.msids, [SDPMsid(stream: "5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5", track: "0d9b4a4b-6a6e-4b5c-9a63-5a8e0e3c8f21")])
        XCTAssertEqual(audio.ssrcs.first, SDPSSRC(ssrc: 3_735_928_559, attribute: "cname", value: "x3Dv1rJ4Kz0Q9nGb"))
        XCTAssertEqual(audio.candidates.count, 3)
        XCTAssertEqual(audio.candidates[0], ICECandidate(
            foundation: "1467250027", priority: 2_122_260_223, address: "192.168.1.10", port: 54321,
            extensions: [.init(name: "generation", value: "0"), .init(name: "network-id", value: "1"),
                         .init(name: "network-cost", value: "10")]))
        XCTAssertEqual(audio.candidates[1].type, .serverReflexive)
        XCTAssertEqual(audio.candidates[1].relatedAddress, "192.168.1.10")
        XCTAssertEqual(audio.candidates[1].relatedPort, 54321)
        XCTAssertEqual(audio.candidates[1].transportAddress, TransportAddress("203.0.113.5:54321"))
        XCTAssertEqual(audio.candidates[2].transport, "tcp")
        XCTAssertEqual(audio.candidates[2].tcpType, "active")
        XCTAssertEqual(sdp.iceCredentials(media: 1)?.ufrag, "EsAw")

        let video = sdp.media[1]
        XCTAssertTrue(video.rtcpReducedSize)
        XCTAssertEqual(video.rtpMap(payloadType: 102)?.encoding, "H264")
        let h264 = try XCTUnwrap(video.formatParameters(payloadType: 102))
        XCTAssertEqual(h264["packetization-mode"], "1")
        XCTAssertEqual(h264["profile-level-id"], "42e01f")
        XCTAssertEqual(video.formatParameters(payloadType: 97)?["apt"], "96")
        XCTAssertEqual(video.formatParameters(payloadType: 103)?["apt"], "102")
        XCTAssertEqual(video.rtcpFeedback(payloadType: 96).map(\.type), ["goog-remb", "transport-cc", "ccm", "nack", "nack"])
        XCTAssertEqual(video.rtcpFeedback(payloadType: 96).last?.parameter, "pli")
        XCTAssertEqual(video.ssrcGroups, [SDPSSRCGroup(semantics: "FID", ssrcs: [2_863_311_530, 1_431_655_765])])
        XCTAssertEqual(video.ssrcs.count, 4)
        XCTAssertEqual(video.ssrcs[1].attribute, "msid")
        XCTAssertEqual(video.ssrcs[1].value, "5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 7c2b1f0e-2a8d-4a7e-b1d4-3f6a9e8c5b10")
        XCTAssertEqual(video.extensionMaps.count, 11)
    }

    func testFirefoxOffer() throws {
        let sdp = try SessionDescription.parse(SDPFixtures.firefoxOffer)
        XCTAssertEqual(sdp.origin.username, "mozilla...THIS_IS_SDPARTA-99.0")
        XCTAssertEqual(sdp.origin.sessionVersion, 0)
        XCTAssertEqual(sdp.fingerprints.count, 1)  // session level
        XCTAssertEqual(sdp.fingerprints(media: 0), sdp.fingerprints)
        XCTAssertEqual(sdp.iceOptions, ["trickle"])
        XCTAssertEqual(sdp.msidSemantic, SDPMsidSemantic(semantic: "WMS", identifiers: ["*"]))
        let audio = sdp.media[0]
        XCTAssertEqual(audio.candidates.map(\.transport), ["UDP", "TCP"])
        XCTAssertEqual(audio.candidates[0].address, "3f2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8.local")
        XCTAssertNil(audio.candidates[0].transportAddress)  // mDNS: resolve or ignore
        XCTAssertTrue(audio.endOfCandidates)
        XCTAssertEqual(audio.extensionMaps[1], SDPExtMap(id: 2, direction: .recvonly, uri: "urn:ietf:params:rtp-hdrext:csrc-audio-level"))
        XCTAssertEqual(audio.rtpMap(payloadType: 9)?.channels, 1)
        XCTAssertEqual(audio.formatParameters(payloadType: 101)?.parameters, "0-15")
        XCTAssertEqual(sdp.iceCredentials(media: 0)?.ufrag, "a1b2c3d4")
        let video = sdp.media[1]
        XCTAssertEqual(video.formats.count, 8)
        XCTAssertEqual(video.formatParameters(payloadType: 126)?["packetization-mode"], "1")
        XCTAssertEqual(video.rtcpFeedback(payloadType: 97).count, 5)
        XCTAssertEqual(video.ssrcGroups.first?.ssrcs, [2_345_678_901, 3_456_789_012])
    }

    func testRoundTrips() throws {
        for fixture in [SDPFixtures.chromeOffer, SDPFixtures.firefoxOffer] {
            let sdp = try SessionDescription.parse(fixture)
            let text = sdp.serialized()
            XCTAssertTrue(text.hasSuffix("\r\n"))
            XCTAssertFalse(text.utf8.contains(where: { $0 == UInt8(ascii: "\n") }) && text.contains("\n\n"))
            XCTAssertEqual(try SessionDescription.parse(text), sdp)
            // The same lines in CRLF and with the attributes of each section shuffled parse the same.
            XCTAssertEqual(try SessionDescription.parse(fixture.replacingNewlines("\r\n")), sdp)
            // Every line of the original is in the output (order aside), apart from msid-semantic's space.
            let written = Set(text.split(separator: "\r\n").map(String.init))
            for line in fixture.split(separator: "\n") where !line.hasPrefix("a=msid-semantic") {
                XCTAssertTrue(written.contains(String(line)), "missing \(line)")
            }
        }
    }

    func testAnswerGolden() throws {
        // What the server answers: ice-lite, passive DTLS, one BUNDLEd audio section.
        var audio = MediaDescription(kind: "audio", formats: ["111"])
        audio.connection = SDPConnection()
        audio.mid = "0"
        audio.direction = .recvonly
        audio.iceUfrag = "srvU"
        audio.icePassword = "serverpassword0123456789"
        audio.fingerprints = [SDPFingerprint(bytes: [0xAB, 0xCD, 0x01])]
        audio.setup = .passive
        audio.rtcpMux = true
        audio.rtpMaps = [SDPRTPMap(payloadType: 111, encoding: "opus", clockRate: 48000, channels: 2)]
        audio.formatParameters = [SDPFormatParameters(format: "111", parameters: "minptime=10;useinbandfec=1")]
        audio.candidates = [ICECandidate(foundation: "1", priority: ICECandidate.priority(typePreference: 126),
                                         address: "203.0.113.1", port: 3478)]
        audio.endOfCandidates = true
        var sdp = SessionDescription(origin: SDPOrigin(sessionID: "42", sessionVersion: 1), media: [audio])
        sdp.iceLite = true
        sdp.groups = [SDPGroup(semantics: "BUNDLE", mids: ["0"])]
        sdp.msidSemantic = SDPMsidSemantic()
        let expected = """
            v=0
            o=- 42 1 IN IP4 127.0.0.1
            s=-
            t=0 0
            a=ice-lite
            a=group:BUNDLE 0
            a=msid-semantic:WMS
            m=audio 9 UDP/TLS/RTP/SAVPF 111
            c=IN IP4 0.0.0.0
            a=candidate:1 1 udp 2130706431 203.0.113.1 3478 typ host
            a=end-of-candidates
            a=ice-ufrag:srvU
            a=ice-pwd:serverpassword0123456789
            a=fingerprint:sha-256 AB:CD:01
            a=setup:passive
            a=mid:0
            a=recvonly
            a=rtcp-mux
            a=rtpmap:111 opus/48000/2
            a=fmtp:111 minptime=10;useinbandfec=1

            """.replacingNewlines("\r\n")
        XCTAssertEqual(sdp.serialized(), expected)
        XCTAssertEqual(try SessionDescription.parse(expected), sdp)
    }

    func testCandidateParsing() throws {
        let c = try ICECandidate(parsing: "candidate:842163049 1 udp 1677729535 198.51.100.7 50000 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw")
        XCTAssertEqual(c.type, .serverReflexive)
        XCTAssertEqual(c.relatedAddress, "0.0.0.0")
        XCTAssertEqual(c.relatedPort, 0)
        XCTAssertEqual(c.extensions.map(\.name), ["generation", "ufrag"])
        XCTAssertEqual(c.description, "candidate:842163049 1 udp 1677729535 198.51.100.7 50000 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw")
        XCTAssertEqual(try ICECandidate(parsing: c.sdpValue), c)
        XCTAssertEqual(try ICECandidate(parsing: "1 1 udp 1 ::1 9 typ relay").type, .relay)
        for bad in ["1 1 udp 1 1.2.3.4 9 host", "1 0 udp 1 1.2.3.4 9 typ host", "1 1 udp -1 1.2.3.4 9 typ host",
                    "1 1 udp 1 1.2.3.4 70000 typ host", "1 1 udp 1 1.2.3.4 9 typ host generation",
                    "1 1 udp 1 1.2.3.4 9 typ srflx rport x"] {
            XCTAssertThrowsError(try ICECandidate(parsing: bad), bad)
        }
        XCTAssertEqual(ICECandidate.priority(typePreference: 126, localPreference: 65535, component: 1), 2_130_706_431)
    }

    func testMalformedAndHostile() {
        func fails(_ text: String, _ expected: SDPParseError, limits: SDPParseLimits = .init(), line: UInt = #line) {
            XCTAssertThrowsError(try SessionDescription.parse(text, limits: limits), line: line) {
                XCTAssertEqual($0 as? SDPParseError, expected, line: line)
            }
        }
        let head = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
        fails("o=- 1 1 IN IP4 0.0.0.0\n", .missingLine("v"))
        fails("v=0\ns=-\n", .missingLine("o"))
        fails("v=1\no=- 1 1 IN IP4 0.0.0.0\n", .unsupportedVersion("1"))
        fails(head + "garbage\n", .malformedLine(line: 5))
        fails("v=0\no=- 1 x IN IP4 0.0.0.0\n", .malformedField(line: 2, field: "o"))
        fails(head + "m=audio\n", .malformedField(line: 5, field: "m"))
        fails(head + "m=audio 70000 RTP/AVP 0\n", .malformedField(line: 5, field: "m"))
        fails(head + "m=audio 9 RTP/AVP 0\na=rtpmap:200 x/1\n", .malformedAttribute(line: 6, name: "rtpmap", reason: "payload type 200"))
        fails(head + "m=audio 9 RTP/AVP 0\na=setup:sometimes\n", .malformedAttribute(line: 6, name: "setup", reason: "setup \"sometimes\""))
        fails(head + "a=fingerprint:sha-256 AB:C\n", .malformedAttribute(line: 5, name: "fingerprint", reason: "fingerprint hex"))
        fails(head + "m=video 9 RTP/AVP 96\na=extmap:0 urn:x\n", .malformedAttribute(line: 6, name: "extmap", reason: "id 0"))
        fails(head + "m=video 9 RTP/AVP 96\na=ssrc-group:FID 1 x\n", .malformedAttribute(line: 6, name: "ssrc-group", reason: "ssrc \"x\""))
        var limits = SDPParseLimits()
        limits.maximumBytes = 100
        fails(head + String(repeating: "a=x\n", count: 30), .tooLong(bytes: 157, limit: 100), limits: limits)
        limits = SDPParseLimits()
        limits.maximumLineLength = 25
        fails(head + "a=" + String(repeating: "x", count: 30) + "\n", .lineTooLong(line: 5, limit: 25), limits: limits)
        limits = SDPParseLimits()
        limits.maximumLines = 6
        fails(head + "a=x\na=y\na=z\n", .tooManyLines(limit: 6), limits: limits)
        limits = SDPParseLimits()
        limits.maximumMediaSections = 2
        fails(head + String(repeating: "m=audio 9 RTP/AVP 0\n", count: 3), .tooManyMediaSections(limit: 2), limits: limits)
    }

    func testToleranceAndUnknowns() throws {
        // Any order, blank lines, CR stragglers, unknown lines and attributes, duplicates kept.
        let text = "o=- 7 3 IN IP4 0.0.0.0\r\n\r\nt=0 0\nv=0\nz=tz\ni=info\na=x-custom:1 2\n"
            + "m=audio 9/2 RTP/AVP 0\r\na=mid:a\na=mid:b\nb=AS:64\nc=IN IP6 ::\na=sendonly\na=inactive\nk=prompt\n"
            + "a=rtcp-mux:weird\na=ice-options:trickle\na=ice-options:renomination\n"
        let sdp = try SessionDescription.parse(text)
        XCTAssertEqual(sdp.origin.sessionID, "7")
        XCTAssertEqual(sdp.sessionName, "-")
        XCTAssertEqual(sdp.otherLines, [SDPLine(type: "i", value: "info"), SDPLine(type: "z", value: "tz")])
        XCTAssertEqual(sdp.otherAttributes, [SDPAttribute(name: "x-custom", value: "1 2")])
        let m = sdp.media[0]
        XCTAssertEqual(m.portCount, 2)
        XCTAssertEqual(m.mid, "a")
        XCTAssertEqual(m.direction, .sendonly)
        XCTAssertEqual(m.connection, SDPConnection(addressType: "IP6", address: "::"))
        XCTAssertEqual(m.bandwidths, [SDPBandwidth(type: "AS", value: 64)])
        XCTAssertFalse(m.rtcpMux)
        XCTAssertEqual(m.iceOptions, ["trickle", "renomination"])
        XCTAssertEqual(m.otherAttributes, [SDPAttribute(name: "mid", value: "b"), SDPAttribute(name: "inactive"),
                                           SDPAttribute(name: "rtcp-mux", value: "weird")])
        XCTAssertEqual(m.otherLines, [SDPLine(type: "k", value: "prompt")])
        XCTAssertEqual(try SessionDescription.parse(sdp.serialized()), sdp)
    }

    func testCombiningMarksAfterSeparatorsRoundTrip() throws {
        // U+0301 after a space would join it into one Character; the parser splits on scalars.
        let text = "v=0\no=- 1 1 IN IP4 0.0.0.0\na=group:BUNDLE \u{301}x y\nm=audio 9 RTP/AVP 0\na=mid:\u{301}\n"
        let sdp = try SessionDescription.parse(text)
        XCTAssertEqual(sdp.groups.first?.mids.count, 2)
        XCTAssertEqual(try SessionDescription.parse(sdp.serialized()), sdp)
    }
}

extension String {
    func replacingNewlines(_ with: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: with)
    }
}
