import NIOCore
import RoomProtocol
import RoomRTP
import RTP
import XCTest

final class RoomRTPTests: XCTestCase {
    let video = TrackInfo(kind: .video, codec: "h264", width: 640, height: 360, frameRate: 30)
    let audio = TrackInfo(kind: .audio, codec: "aac", sampleRate: 44_100, channels: 1, extradata: "Egg=")

    func testMediaFrameSurvivesTheRTPFrame() {
        let header = MediaFrameHeader(streamHandle: 7, track: .video, flags: [.keyframe, .parameterSetsAdded], pts: 1_000_000,
                                      dts: 966_667, captureTime: 1_700_000_000_123_456)
        let payload = ByteBuffer(bytes: [0, 0, 0, 1, 0x65, 9, 9])
        let frame = RTPFrame(header: header, payload: payload)
        XCTAssertEqual(frame.kind, .video)
        XCTAssertTrue(frame.isKeyframe)
        XCTAssertEqual(frame.mediaFrame(handle: 7), MediaFrame(header: header, payload: payload))
        // The handle is the receiver's; a frame that is no IDR loses the keyframe flag.
        var notKey = frame
        notKey.isKeyframe = false
        XCTAssertEqual(notKey.mediaFrame(handle: 9).header.flags, [.parameterSetsAdded])
        XCTAssertEqual(notKey.mediaFrame(handle: 9).header.streamHandle, 9)
    }

    func testTrackCodecs() {
        XCTAssertEqual(video.rtpCodec, .h264)
        XCTAssertEqual(audio.rtpCodec, .aac(clockRate: 44_100, channels: 1, audioSpecificConfig: [0x12, 0x08]))
        XCTAssertEqual(TrackInfo(kind: .audio, codec: "opus", channels: 2).rtpCodec, .opus)
        XCTAssertNil(TrackInfo(kind: .video, codec: "vp8").rtpCodec)
        // No extradata: the AudioSpecificConfig of the rate and channels (AAC-LC 48 kHz stereo: 11 90).
        XCTAssertEqual(TrackInfo(kind: .audio, codec: "aac", sampleRate: 48_000, channels: 2).rtpCodec,
                       .aac(clockRate: 48_000, channels: 2, audioSpecificConfig: [0x11, 0x90]))
    }

    private func endpoint() throws -> (ICECredentials, DTLSCertificate) { (ICECredentials.random(), try DTLSCertificate()) }

    func testPublishOfferAndAnswerAgreeThroughSDPText() throws {
        let (clientICE, clientCert) = try endpoint()
        let (serverICE, serverCert) = try endpoint()
        let candidate = TransportAddress("127.0.0.1:3478")!
        let offer = RoomRTPOffers.publishOffer(tracks: [video, audio], iceCredentials: clientICE, fingerprint: clientCert.fingerprint)
        // Both ends see only the text, as over the room protocol.
        let serverSeen = try RTPMediaOffer(parsing: offer.sessionDescription().serialized())
        let answer = try RoomRTPOffers.answerPublish(serverSeen, iceCredentials: serverICE, fingerprint: serverCert.fingerprint,
                                                     candidate: candidate)
        let clientSeen = try RTPMediaOffer(parsing: answer.sessionDescription().serialized())
        let client = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: clientSeen)
        let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: serverSeen)
        XCTAssertEqual(client.remoteAddress, candidate)
        XCTAssertEqual(client.sendTracks.map(\.codec.kind), [.video, .audio])
        XCTAssertTrue(client.receiveTracks.isEmpty)
        XCTAssertEqual(server.receiveTracks.map(\.ssrc), client.sendTracks.map(\.ssrc))
        XCTAssertEqual(server.receiveTracks.map(\.payloadType), client.sendTracks.map(\.payloadType))
        XCTAssertEqual(server.receiveTracks.map(\.rtxSSRC), client.sendTracks.map(\.rtxSSRC))
        XCTAssertEqual(server.remoteFingerprint, clientCert.fingerprint)
        XCTAssertEqual(client.remoteFingerprint, serverCert.fingerprint)
        XCTAssertEqual(client.extensions, .rtcbox)
        XCTAssertEqual(server.extensions, .rtcbox)
    }

    func testPlayAnswerSendsTheStreamsAudioCodec() throws {
        let (clientICE, clientCert) = try endpoint()
        let (serverICE, serverCert) = try endpoint()
        let candidate = TransportAddress("127.0.0.1:3478")!
        let offer = RoomRTPOffers.playOffer(iceCredentials: clientICE, fingerprint: clientCert.fingerprint)
        for (tracks, expected) in [([video, audio], RoomRTPOffers.aacForPlayers.payloadType),
                                   ([video, TrackInfo(kind: .audio, codec: "opus", channels: 2)], RoomRTPOffers.opus.payloadType),
                                   (nil, RoomRTPOffers.aacForPlayers.payloadType)] as [([TrackInfo]?, UInt8)] {
            let answer = try RoomRTPOffers.answerPlay(offer, streamTracks: tracks, iceCredentials: serverICE,
                                                      fingerprint: serverCert.fingerprint, candidate: candidate)
            let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
            let client = try RTPMediaOffer.peerParameters(role: .client, local: offer, remote: answer)
            XCTAssertEqual(server.sendTracks.first { $0.codec.kind == .audio }?.payloadType, expected)
            XCTAssertEqual(client.receiveTracks.map(\.payloadType), server.sendTracks.map(\.payloadType))
            XCTAssertEqual(client.receiveTracks.map(\.ssrc), server.sendTracks.map(\.ssrc))
        }
    }

    /// A browser's WHEP offer lists Opus and no AAC: an AAC stream's audio is answered Opus only when the
    /// server transcodes (`opusFromAAC`), else that section gets no sender.
    func testPlayAnswerGivesOpusForAnAACStreamOnlyWhenTranscoding() throws {
        let (clientICE, clientCert) = try endpoint()
        let (serverICE, serverCert) = try endpoint()
        let candidate = TransportAddress("127.0.0.1:3478")!
        var offer = RoomRTPOffers.playOffer(iceCredentials: clientICE, fingerprint: clientCert.fingerprint)
        for i in offer.media.indices where offer.media[i].kind == .audio {
            offer.media[i].formats.removeAll { if case .aac = $0.codec { return true } else { return false } }
        }
        XCTAssertTrue(offer.media.contains { $0.kind == .audio && $0.formats.map(\.codec) == [.opus] })
        for (transcoding, expected) in [(true, [RTPCodec.h264, .opus]), (false, [.h264])] {
            let answer = try RoomRTPOffers.answerPlay(offer, streamTracks: [video, audio], opusFromAAC: transcoding,
                                                      iceCredentials: serverICE, fingerprint: serverCert.fingerprint,
                                                      candidate: candidate)
            let server = try RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
            XCTAssertEqual(server.sendTracks.map(\.codec), expected, "opusFromAAC: \(transcoding)")
        }
    }
}

final class TrackInfoFromCodecTests: XCTestCase {
    /// What a WHIP publish's tracks and a WHEP answer's become in the room protocol; `rtpCodec` maps them back.
    func testRTPCodecsBecomeTracksAndBack() {
        XCTAssertEqual(TrackInfo(.h264), TrackInfo(kind: .video, codec: "h264"))
        XCTAssertEqual(TrackInfo(.opus), TrackInfo(kind: .audio, codec: "opus", sampleRate: 48_000, channels: 2))
        let aac = RTPCodec.aac(clockRate: 44_100, channels: 1, audioSpecificConfig: [0x12, 0x08])
        XCTAssertEqual(TrackInfo(aac), TrackInfo(kind: .audio, codec: "aac", sampleRate: 44_100, channels: 1, extradata: "Egg="))
        XCTAssertEqual(TrackInfo(aac).rtpCodec, aac)
        XCTAssertEqual(TrackInfo(.opus).rtpCodec, .opus)
    }
}
