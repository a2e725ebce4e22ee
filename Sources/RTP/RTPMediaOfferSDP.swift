/// `RTPMediaOffer` to and from SDP text's model, `SessionDescription`.
extension RTPMediaOffer {
    /// The SDP: session-level ICE, fingerprint and setup, a=group:BUNDLE of every mid; per section port 9 and
    /// c=IN IP4 0.0.0.0 (the addresses are in the candidates), rtcp-mux, the codecs with their RTX and RED,
    /// feedback and fmtp, the extmaps, and the SSRCs this side sends from.
    public func sessionDescription() -> SessionDescription {
        var sdp = SessionDescription(origin: SDPOrigin(sessionID: sessionID, sessionVersion: 2))
        sdp.iceLite = iceLite
        sdp.iceUfrag = iceCredentials.ufrag
        sdp.icePassword = iceCredentials.password
        sdp.fingerprints = [SDPFingerprint(hashFunction: fingerprint.algorithm.rawValue, bytes: fingerprint.digest)]
        sdp.setup = setup
        sdp.groups = [SDPGroup(semantics: "BUNDLE", mids: media.map(\.mid))]
        sdp.media = media.enumerated().map { index, section in
            var m = section.mediaDescription(cname: cname)
            if index == 0 {
                m.candidates = candidates.enumerated().map { i, address in
                    ICECandidate(foundation: String(i + 1), priority: ICECandidate.priority(
                        typePreference: 126, localPreference: UInt32(65535 - min(i, 65535))),
                        address: address.ip.description, port: address.port)
                }
                m.endOfCandidates = true
            }
            return m
        }
        return sdp
    }

    /// Reads an offer or answer: the codecs it does not know are dropped, what rtcbox needs is checked.
    public init(_ sdp: SessionDescription) throws(RTPNegotiationError) {
        // Port 0: a section the answerer rejected (or an offer's bundle-only one, which rtcbox does not write).
        let sections = sdp.media.indices.filter { sdp.media[$0].port != 0 }
        guard let first = sections.first else { throw .noMedia }
        // One BUNDLE transport: the first (tagged) section's ICE and DTLS attributes, else the session's.
        guard let ice = sdp.iceCredentials(media: first) else { throw .missingICECredentials }
        guard let credentials = ICECredentials(ufrag: ice.ufrag, password: ice.password) else {
            throw .invalidICECredentials
        }
        let offered = sdp.fingerprints(media: first)
        guard !offered.isEmpty else { throw .missingFingerprint }
        let fingerprint = offered.lazy.compactMap { f -> DTLSFingerprint? in
            guard let algorithm = DTLSFingerprint.Algorithm(rawValue: f.hashFunction.lowercased()),
                f.bytes.count == algorithm.digestLength
            else { return nil }
            return DTLSFingerprint(algorithm: algorithm, digest: f.bytes)
        }.first
        guard let fingerprint else { throw .unsupportedFingerprint(offered[0].hashFunction) }
        guard let setup = sdp.media[first].setup ?? sdp.setup else { throw .missingSetup }
        guard setup != .holdconn else { throw .incompatibleSetup(setup) }

        let bundle = Set(sdp.bundleMids ?? [])
        var media: [RTPMediaSection] = []
        var candidates: [TransportAddress] = []
        var cname: String?
        for index in sections {
            let m = sdp.media[index]
            guard let mid = m.mid else { throw .missingMid(section: index) }
            guard !media.contains(where: { $0.mid == mid }) else { throw .duplicateMid(mid) }
            guard let kind = RTPMediaKind(rawValue: m.kind) else { throw .unsupportedMedia(mid: mid, kind: m.kind) }
            guard !media.contains(where: { $0.kind == kind }) else { throw .duplicateMediaKind(kind) }
            guard bundle.contains(mid) else { throw .notBundled(mid: mid) }
            guard m.rtcpMux else { throw .rtcpMuxRequired(mid: mid) }
            media.append(try RTPMediaSection(m, mid: mid, kind: kind, sessionExtensions: sdp.extensionMaps))
            // Host UDP candidates of RTP (component 1) with a literal address; mDNS names and the rest are not
            // needed by an ICE-lite server, which learns the client's address from its checks.
            for c in m.candidates where c.component == 1 && c.transport.lowercased() == "udp" && c.type == .host {
                if let address = c.transportAddress, !candidates.contains(address) { candidates.append(address) }
            }
            if cname == nil { cname = m.ssrcs.first { $0.attribute == "cname" }?.value }
        }
        self.init(sessionID: sdp.origin.sessionID, iceCredentials: credentials, iceLite: sdp.iceLite,
                  fingerprint: fingerprint, setup: setup, candidates: candidates, cname: cname ?? "", media: media)
    }

    /// Parses SDP text (`SDPParseError` for text that is not SDP, `RTPNegotiationError` for SDP rtcbox cannot take).
    public init(parsing text: String) throws {
        try self.init(SessionDescription.parse(text))
    }
}

extension RTPMediaSection {
    func mediaDescription(cname: String) -> MediaDescription {
        var payloadTypes: [UInt8] = []
        for f in formats {
            payloadTypes.append(f.payloadType)
            if let rtx = f.rtxPayloadType { payloadTypes.append(rtx) }
            if let red = f.redPayloadType { payloadTypes.append(red) }
        }
        var m = MediaDescription(kind: kind.rawValue, formats: payloadTypes.map { String($0) })
        m.connection = SDPConnection()
        m.mid = mid
        m.direction = direction
        m.rtcpMux = true
        m.extensionMaps = RTPExtensionIDs.uris.compactMap { uri, keyPath in
            extensions[keyPath: keyPath].map { SDPExtMap(id: UInt16($0), uri: uri) }
        }
        for f in formats {
            let map = f.codec.rtpMap
            m.rtpMaps.append(SDPRTPMap(payloadType: f.payloadType, encoding: map.encoding, clockRate: map.clockRate,
                                       channels: map.channels))
            for (flag, type, parameter) in RTPFeedbackSet.lines where feedback.contains(flag) {
                m.rtcpFeedback.append(SDPRTCPFeedback(format: String(f.payloadType), type: type, parameter: parameter))
            }
            m.formatParameters.append(SDPFormatParameters(format: String(f.payloadType), parameters: f.codec.formatParameters))
            if let rtx = f.rtxPayloadType {
                m.rtpMaps.append(SDPRTPMap(payloadType: rtx, encoding: "rtx", clockRate: map.clockRate))
                m.formatParameters.append(SDPFormatParameters(format: String(rtx), parameters: "apt=\(f.payloadType)"))
            }
            if let red = f.redPayloadType {
                // RFC 2198 section 5: the primary's payload type, then the redundant blocks' (the same codec).
                m.rtpMaps.append(SDPRTPMap(payloadType: red, encoding: "red", clockRate: map.clockRate, channels: map.channels))
                m.formatParameters.append(SDPFormatParameters(format: String(red), parameters: "\(f.payloadType)/\(f.payloadType)"))
            }
        }
        if let ssrc {
            m.ssrcs.append(SDPSSRC(ssrc: ssrc, attribute: "cname", value: cname))
            if let rtxSSRC {
                m.ssrcGroups.append(SDPSSRCGroup(semantics: "FID", ssrcs: [ssrc, rtxSSRC]))
                m.ssrcs.append(SDPSSRC(ssrc: rtxSSRC, attribute: "cname", value: cname))
            }
        }
        return m
    }

    init(_ m: MediaDescription, mid: String, kind: RTPMediaKind, sessionExtensions: [SDPExtMap]) throws(RTPNegotiationError) {
        // The m= line's order is the preference; a payload type needs an rtpmap (static types are not used).
        var formats: [RTPPayloadFormat] = []
        var offered: [String] = []
        for text in m.formats {
            guard let pt = UInt8(text), let map = m.rtpMap(payloadType: pt) else { continue }
            if map.encoding.lowercased() != "rtx" { offered.append(map.encoding) }
            guard !formats.contains(where: { $0.payloadType == pt }),
                let codec = RTPCodec(rtpMap: map, parameters: m.formatParameters(payloadType: pt)), codec.kind == kind
            else { continue }
            formats.append(RTPPayloadFormat(codec: codec, payloadType: pt))
        }
        // RTX (RFC 4588 section 8.6): rtx/<clock> with apt= naming the payload type it repairs.
        for text in m.formats {
            guard let pt = UInt8(text), let map = m.rtpMap(payloadType: pt), map.encoding.lowercased() == "rtx",
                let apt = m.formatParameters(payloadType: pt)?["apt"].flatMap({ UInt8($0) }),
                let i = formats.firstIndex(where: { $0.payloadType == apt }), formats[i].rtxPayloadType == nil
            else { continue }
            formats[i].rtxPayloadType = pt
        }
        // RED (RFC 2198 section 5), audio: red/<clock> whose fmtp names one of these payload types as the
        // primary and every redundant block (rtcbox repeats the same codec, as WebRTC does).
        for text in m.formats where kind == .audio {
            guard let pt = UInt8(text), let map = m.rtpMap(payloadType: pt), map.encoding.lowercased() == "red",
                let types = m.formatParameters(payloadType: pt).map({ $0.parameters.split(separator: "/", omittingEmptySubsequences: false) }),
                types.count >= 2, let primary = UInt8(String(types[0])), types.allSatisfy({ UInt8(String($0)) == primary }),
                let i = formats.firstIndex(where: { $0.payloadType == primary }), formats[i].redPayloadType == nil,
                formats[i].codec.rtpMap.clockRate == map.clockRate
            else { continue }
            formats[i].redPayloadType = pt
        }
        guard let best = formats.first else {
            var seen: [String] = []
            for name in offered where !seen.contains(name) { seen.append(name) }
            throw .noSupportedCodec(mid: mid, offered: seen)
        }
        // The feedback of the preferred codec (and the `*` lines).
        var feedback: RTPFeedbackSet = []
        for fb in m.rtcpFeedback(payloadType: best.payloadType) {
            for (flag, type, parameter) in RTPFeedbackSet.lines where fb.type == type && fb.parameter == parameter {
                feedback.insert(flag)
            }
        }
        var extensions = RTPExtensionIDs()
        for map in sessionExtensions + m.extensionMaps where map.id <= 255 {
            // A one-byte or two-byte header id (RFC 8285); the first map of a URI counts.
            if let entry = RTPExtensionIDs.uris.first(where: { $0.uri == map.uri }), extensions[keyPath: entry.id] == nil {
                extensions[keyPath: entry.id] = UInt8(map.id)
            }
        }
        // The sender's SSRC: the FID group's pair when there is one (RTX), else the first a=ssrc.
        var ssrc = m.ssrcs.first?.ssrc
        var rtxSSRC: UInt32?
        if let fid = m.ssrcGroups.first(where: { $0.semantics == "FID" && $0.ssrcs.count == 2 }) {
            ssrc = fid.ssrcs[0]
            rtxSSRC = fid.ssrcs[1]
        }
        self.init(mid: mid, kind: kind, direction: m.direction ?? .sendrecv, formats: formats, ssrc: ssrc,
                  rtxSSRC: rtxSSRC, feedback: feedback, extensions: extensions)
    }
}
