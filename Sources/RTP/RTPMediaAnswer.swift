/// The answer to an offer (JSEP, RFC 8829 section 5.3.1, in rtcbox's subset) and what an offer and its
/// answer agreed, as `RTPPeerParameters`.
extension RTPMediaOffer {
    /// Answers `offer`: per offered section the same mid, the reversed direction as far as this side sends
    /// (`sending`, one track per kind) and receives (`receiving`), one codec (the offer's first that fits),
    /// the offer's payload types and extmap ids, this side's SSRCs for what it sends. A section this side
    /// neither sends nor receives is answered `inactive`.
    ///
    /// - Parameters:
    ///   - sending: what this side sends; each track's codec and SSRCs count, its payload types are the offer's.
    ///     An AAC track is answered with its own AudioSpecificConfig when the offer has the same rate and channels.
    ///   - setup: this side's DTLS role, `passive` (the server) or `active`.
    ///   - receivingRedundancy: whether this side takes RED (RFC 2198) on audio it receives. The answer keeps
    ///     the offer's RED for the chosen codec only when this side lists it too: its sending track has a
    ///     `redPayloadType` (any value: the offer's is used), or it receives and takes it.
    /// - Throws: `noSupportedCodec` when this side would send a kind in a format the offer does not take,
    ///   `incompatibleSetup` when the offer's a=setup leaves `setup` no room, `bothICELite`.
    public static func answer(
        to offer: RTPMediaOffer, sessionID: String, iceCredentials: ICECredentials, iceLite: Bool,
        fingerprint: DTLSFingerprint, setup: SDPSetup = .passive, candidates: [TransportAddress], cname: String,
        sending: [RTPTrack], receiving: Set<RTPMediaKind>, receivingRedundancy: Bool = false
    ) throws(RTPNegotiationError) -> RTPMediaOffer {
        // RFC 5763 section 5: active answers passive and actpass, passive answers active and actpass.
        switch (offer.setup, setup) {
        case (.actpass, .active), (.actpass, .passive), (.active, .passive), (.passive, .active): break
        default: throw .incompatibleSetup(offer.setup)
        }
        if iceLite && offer.iceLite { throw .bothICELite }
        var media: [RTPMediaSection] = []
        for offered in offer.media {
            let track = sending.first { $0.codec.kind == offered.kind }
            let sends = offered.receives ? track : nil
            let receives = offered.sends && receiving.contains(offered.kind)
            let chosen = offered.formats.first { format in sends.map { format.codec.sameFormat(as: $0.codec) } ?? true }
            guard let chosen else {
                throw .noSupportedCodec(mid: offered.mid, offered: offered.formats.map(\.codec.sdpName))
            }
            var format = chosen
            var section = RTPMediaSection(mid: offered.mid, kind: offered.kind, direction: .inactive, formats: [],
                                          feedback: offered.feedback.intersection(offered.kind == .video ? .video : .audio),
                                          extensions: offered.extensions)
            switch (sends, receives) {
            case (let track?, _):
                format.codec = track.codec
                // RTX only when this side has an RTX SSRC to send it from.
                if track.rtxSSRC == nil { format.rtxPayloadType = nil }
                if track.redPayloadType == nil && !(receives && receivingRedundancy) { format.redPayloadType = nil }
                section.ssrc = track.ssrc
                section.rtxSSRC = format.rtxPayloadType == nil ? nil : track.rtxSSRC
                section.direction = receives ? .sendrecv : .sendonly
            case (nil, true):
                section.direction = .recvonly
                if !receivingRedundancy { format.redPayloadType = nil }
            case (nil, false):
                section.direction = .inactive
                format.redPayloadType = nil
            }
            section.formats = [format]
            media.append(section)
        }
        return RTPMediaOffer(sessionID: sessionID, iceCredentials: iceCredentials, iceLite: iceLite,
                             fingerprint: fingerprint, setup: setup, candidates: candidates,
                             cname: media.contains { $0.ssrc != nil } ? cname : "", media: media)
    }

    /// What `local` and `remote` (an offer and its answer, either way round) agreed, for an `RTPPeer` of `role`:
    /// per section the codec both have (the answer's), the tracks this side sends (its codec and SSRCs) and
    /// receives (the remote's codec and SSRCs, 0 when it did not say), RTX and RED where both list the same
    /// payload type for it, the header extensions both gave the same id. A client's `remoteAddress` is the
    /// server's first candidate.
    public static func peerParameters(
        role: RTPPeer.Role, local: RTPMediaOffer, remote: RTPMediaOffer
    ) throws(RTPNegotiationError) -> RTPPeerParameters {
        let dtlsRole: SDPSetup
        switch (local.setup, remote.setup) {
        case (.active, .passive), (.active, .actpass): dtlsRole = .active
        case (.passive, .active), (.passive, .actpass): dtlsRole = .passive
        case (.actpass, .active): dtlsRole = .passive
        case (.actpass, .passive): dtlsRole = .active
        default: throw .incompatibleSetup(remote.setup)
        }
        guard dtlsRole == (role == .server ? .passive : .active) else { throw .incompatibleSetup(local.setup) }
        var sendTracks: [RTPTrack] = []
        var receiveTracks: [RTPTrack] = []
        var extensions = RTPExtensionIDs()
        for mine in local.media {
            guard let theirs = remote.media.first(where: { $0.mid == mine.mid && $0.kind == mine.kind }) else {
                throw .unansweredMedia(mid: mine.mid)
            }
            // The remote's order: an answer has one format, an offer gives its preference.
            let pair = theirs.formats.lazy.compactMap { t in
                mine.formats.first { $0.payloadType == t.payloadType && $0.codec.sameFormat(as: t.codec) }.map { ($0, t) }
            }.first
            guard let (myFormat, theirFormat) = pair else {
                throw .noSupportedCodec(mid: mine.mid, offered: theirs.formats.map(\.codec.sdpName))
            }
            let rtx = myFormat.rtxPayloadType != nil && myFormat.rtxPayloadType == theirFormat.rtxPayloadType
                ? myFormat.rtxPayloadType : nil
            // RED only when both sides list it for this primary (an answer without it: none either way).
            let red = myFormat.redPayloadType != nil && myFormat.redPayloadType == theirFormat.redPayloadType
                ? myFormat.redPayloadType : nil
            if mine.sends && theirs.receives {
                guard let ssrc = mine.ssrc else { throw .missingSSRC(mid: mine.mid) }
                let rtxSSRC = rtx == nil ? nil : mine.rtxSSRC
                sendTracks.append(RTPTrack(codec: myFormat.codec, payloadType: myFormat.payloadType, ssrc: ssrc,
                                           rtxPayloadType: rtxSSRC == nil ? nil : rtx, rtxSSRC: rtxSSRC, redPayloadType: red))
            }
            if mine.receives && theirs.sends {
                receiveTracks.append(RTPTrack(codec: theirFormat.codec, payloadType: theirFormat.payloadType,
                                              ssrc: theirs.ssrc ?? 0, rtxPayloadType: rtx, rtxSSRC: theirs.rtxSSRC,
                                              redPayloadType: red))
            }
            for (uri, keyPath) in RTPExtensionIDs.uris {
                guard let id = mine.extensions[keyPath: keyPath], theirs.extensions[keyPath: keyPath] == id else { continue }
                if let agreed = extensions[keyPath: keyPath], agreed != id { throw .conflictingExtensionIDs(uri: uri) }
                extensions[keyPath: keyPath] = id
            }
        }
        return RTPPeerParameters(
            role: role, localICE: local.iceCredentials, remoteICE: remote.iceCredentials,
            remoteFingerprint: remote.fingerprint, remoteAddress: role == .client ? remote.candidates.first : nil,
            sendTracks: sendTracks, receiveTracks: receiveTracks, extensions: extensions)
    }
}

extension RTPCodec {
    /// The rtpmap's `encoding/clock[/channels]`, for messages.
    public var sdpName: String {
        let map = rtpMap
        return "\(map.encoding)/\(map.clockRate)" + (map.channels.map { "/\($0)" } ?? "")
    }
}
