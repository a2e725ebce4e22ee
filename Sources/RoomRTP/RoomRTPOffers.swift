import RoomProtocol
import RTP

/// rtcbox's offers and answers for media over UDP (docs/protocol.md, "Media over UDP"): a client offers
/// (a=setup:active, its ICE credentials), the server answers ice-lite and a=setup:passive with its host
/// candidate; one ICE/DTLS session per publish and per play, both kinds BUNDLEd on it.
public enum RoomRTPOffers {
    /// Payload types rtcbox offers (dynamic range, RFC 3551). Audio also offers RED (RFC 2198) over its
    /// primary: 102 over AAC's 100, 63 over Opus 111 (as Chrome does); the sender turns it on when loss is seen.
    public static let h264 = RTPPayloadFormat(codec: .h264, payloadType: 96, rtxPayloadType: 97)
    /// AAC as players take it: a 48 kHz RTP clock whatever the stream's rate (RFC 3640 only recommends the
    /// sampling rate; rtcbox peers take times from frame-timing and the configuration from the stream's track).
    public static let aacForPlayers = RTPPayloadFormat(codec: .aac(clockRate: 48_000, channels: 2, audioSpecificConfig: [0x11, 0x90]),
                                                      payloadType: 100, rtxPayloadType: 101, redPayloadType: 102)
    public static let opus = RTPPayloadFormat(codec: .opus, payloadType: 111, rtxPayloadType: 112, redPayloadType: 63)

    /// A publisher's offer for these tracks (those the UDP path cannot carry are left out and go over TCP),
    /// and the tracks it will send, with fresh SSRCs.
    public static func publishOffer(tracks: [TrackInfo], iceCredentials: ICECredentials,
                                    fingerprint: DTLSFingerprint) -> RTPMediaOffer {
        var media: [RTPMediaSection] = []
        for track in tracks {
            guard let codec = track.rtpCodec, !media.contains(where: { $0.kind == codec.kind }) else { continue }
            let format: RTPPayloadFormat
            switch codec {
            case .h264: format = h264
            case .opus: format = opus
            case .aac: format = RTPPayloadFormat(codec: codec, payloadType: aacForPlayers.payloadType,
                                                 rtxPayloadType: aacForPlayers.rtxPayloadType, redPayloadType: aacForPlayers.redPayloadType)
            }
            media.append(RTPMediaSection(mid: String(media.count), kind: codec.kind, direction: .sendonly, formats: [format],
                                         ssrc: randomSSRC(), rtxSSRC: randomSSRC()))
        }
        return RTPMediaOffer(sessionID: RTPMediaOffer.randomSessionID(), iceCredentials: iceCredentials,
                             fingerprint: fingerprint, setup: .active, cname: iceCredentials.ufrag, media: media)
    }

    /// A player's offer: it receives H.264 video and AAC or Opus audio.
    public static func playOffer(iceCredentials: ICECredentials, fingerprint: DTLSFingerprint) -> RTPMediaOffer {
        RTPMediaOffer(sessionID: RTPMediaOffer.randomSessionID(), iceCredentials: iceCredentials, fingerprint: fingerprint,
                      setup: .active, cname: "", media: [
                          RTPMediaSection(mid: "0", kind: .video, direction: .recvonly, formats: [h264]),
                          RTPMediaSection(mid: "1", kind: .audio, direction: .recvonly, formats: [aacForPlayers, opus]),
                      ])
    }

    /// The server's answer to a publisher's offer: it receives what is offered, audio with RED when offered.
    public static func answerPublish(_ offer: RTPMediaOffer, iceCredentials: ICECredentials, fingerprint: DTLSFingerprint,
                                     candidate: TransportAddress) throws(RTPNegotiationError) -> RTPMediaOffer {
        try RTPMediaOffer.answer(to: offer, sessionID: RTPMediaOffer.randomSessionID(), iceCredentials: iceCredentials,
                                 iceLite: true, fingerprint: fingerprint, setup: .passive, candidates: [candidate],
                                 cname: "", sending: [], receiving: [.video, .audio], receivingRedundancy: true)
    }

    /// The server's answer to a player's offer. It sends video as H.264 and audio in the stream's codec when
    /// the stream is live (`tracks`), else in the offer's first audio format; with `opusFromAAC` (the server
    /// transcodes), an AAC stream's audio goes as Opus to an offer without AAC (a browser's). A track of the
    /// stream the answer did not give a format for goes to the player over TCP.
    public static func answerPlay(_ offer: RTPMediaOffer, streamTracks tracks: [TrackInfo]?, opusFromAAC: Bool = false,
                                  iceCredentials: ICECredentials, fingerprint: DTLSFingerprint,
                                  candidate: TransportAddress) throws(RTPNegotiationError) -> RTPMediaOffer {
        var sending: [RTPTrack] = []
        for section in offer.media where section.receives {
            let wanted = tracks?.first { $0.kind.rtpKind == section.kind }
            let format = section.formats.first { f in wanted.map { f.codec.carries($0.codec) } ?? true }
                ?? (opusFromAAC && wanted?.codec.lowercased() == "aac" ? section.formats.first { $0.codec == .opus } : nil)
            guard let format else { continue }
            sending.append(RTPTrack(codec: format.codec, payloadType: format.payloadType, ssrc: randomSSRC(),
                                    rtxPayloadType: format.rtxPayloadType, rtxSSRC: format.rtxPayloadType == nil ? nil : randomSSRC(),
                                    redPayloadType: format.redPayloadType))
        }
        return try RTPMediaOffer.answer(to: offer, sessionID: RTPMediaOffer.randomSessionID(), iceCredentials: iceCredentials,
                                        iceLite: true, fingerprint: fingerprint, setup: .passive, candidates: [candidate],
                                        cname: iceCredentials.ufrag, sending: sending, receiving: [])
    }

    static func randomSSRC() -> UInt32 { UInt32.random(in: 1 ... .max) }
}
