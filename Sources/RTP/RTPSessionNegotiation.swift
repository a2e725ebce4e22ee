/// What one side of an rtcbox media session says in its SDP (an offer, or the answer to one): its ICE
/// credentials and host candidates, its DTLS certificate's fingerprint and role, and one media section per
/// kind with the codecs, SSRCs, RTCP feedback and header extensions it uses. All sections share one
/// transport (BUNDLE, rtcp-mux): ICE and DTLS attributes are written at the session level, the candidates in
/// the first section (the BUNDLE tag, RFC 8843 section 7).
///
/// `init(_:)` reads what a browser or another rtcbox wrote, keeping the codecs this module can carry and
/// dropping the others (VP8, G.722, ...), with their RTX and (audio) RED; `sessionDescription()` writes it
/// back, and parsing what it writes gives an equal value.
public struct RTPMediaOffer: Sendable, Hashable {
    /// o= session id: digits (JSEP, RFC 8829 section 5.2.1: random, under 2^63).
    public var sessionID: String
    public var iceCredentials: ICECredentials
    /// a=ice-lite: the server's side.
    public var iceLite: Bool
    public var fingerprint: DTLSFingerprint
    /// a=setup: an rtcbox client offers `active`, the server answers `passive`; a browser offers `actpass`.
    public var setup: SDPSetup
    /// Host UDP candidates (the server's port of `serve --udp`); a client may give none (ICE-lite learns
    /// its address from the checks).
    public var candidates: [TransportAddress]
    /// a=ssrc cname (RFC 7022), one per session; it rides on a=ssrc only, so a side that sends nothing has "".
    public var cname: String
    public var media: [RTPMediaSection]

    public init(sessionID: String, iceCredentials: ICECredentials, iceLite: Bool = false, fingerprint: DTLSFingerprint,
                setup: SDPSetup, candidates: [TransportAddress] = [], cname: String, media: [RTPMediaSection]) {
        self.sessionID = sessionID
        self.iceCredentials = iceCredentials
        self.iceLite = iceLite
        self.fingerprint = fingerprint
        self.setup = setup
        self.candidates = candidates
        self.cname = cname
        self.media = media
    }

    /// The section of a kind, if there is one.
    public func section(_ kind: RTPMediaKind) -> RTPMediaSection? {
        media.first { $0.kind == kind }
    }

    /// A fresh o= session id (62 random bits, as Chrome writes them).
    public static func randomSessionID() -> String {
        String(UInt64.random(in: 1...(UInt64(1) << 62)))
    }
}

/// One m= section: one kind of media in one direction, its codecs in preference order.
public struct RTPMediaSection: Sendable, Hashable {
    public var mid: String
    public var kind: RTPMediaKind
    /// This side's direction (`sendonly`: it sends this kind).
    public var direction: SDPDirection
    /// The codecs, best first (an answer keeps one).
    public var formats: [RTPPayloadFormat]
    /// The SSRC this side sends from (a=ssrc), and its RTX SSRC (a=ssrc-group:FID); nil when it does not send
    /// or does not say.
    public var ssrc: UInt32?
    public var rtxSSRC: UInt32?
    /// The RTCP feedback this side takes for these codecs (a=rtcp-fb).
    public var feedback: RTPFeedbackSet
    /// The header extensions of this section (a=extmap); nil ids are absent.
    public var extensions: RTPExtensionIDs

    public init(mid: String, kind: RTPMediaKind, direction: SDPDirection, formats: [RTPPayloadFormat],
                ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil, feedback: RTPFeedbackSet? = nil,
                extensions: RTPExtensionIDs = .rtcbox) {
        self.mid = mid
        self.kind = kind
        self.direction = direction
        self.formats = formats
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.feedback = feedback ?? (kind == .video ? .video : .audio)
        // The audio level is audio's alone (browsers offer it on their audio m-line only).
        var ids = extensions
        if kind != .audio { ids.audioLevel = nil }
        if kind != .video { ids.playoutDelay = nil }
        self.extensions = ids
    }

    /// Whether this side sends (sendonly, sendrecv) or receives (recvonly, sendrecv) in this section.
    public var sends: Bool { direction == .sendonly || direction == .sendrecv }
    public var receives: Bool { direction == .recvonly || direction == .sendrecv }
}

/// A codec under one payload type, with its RTX payload type (RFC 4588: `rtx/<clock>`, `apt=`) and, for
/// audio, its RED payload type (RFC 2198 section 5: `red/<clock>/<channels>`, fmtp `<pt>/<pt>`, as Chrome
/// offers `63 red/48000/2` with `111/111` for Opus) if offered.
public struct RTPPayloadFormat: Sendable, Hashable {
    public var codec: RTPCodec
    public var payloadType: UInt8
    public var rtxPayloadType: UInt8?
    /// Audio only (ignored for video, whose `red` is ULPFEC's wrapper, which rtcbox does not carry).
    public var redPayloadType: UInt8?

    public init(codec: RTPCodec, payloadType: UInt8, rtxPayloadType: UInt8? = nil, redPayloadType: UInt8? = nil) {
        self.codec = codec
        self.payloadType = payloadType
        self.rtxPayloadType = rtxPayloadType
        self.redPayloadType = codec.kind == .audio ? redPayloadType : nil
    }
}

/// The a=rtcp-fb types rtcbox uses (RFC 4585, RFC 5104, transport-cc).
public struct RTPFeedbackSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `nack` (RFC 4585 generic NACK, answered with RTX).
    public static let nack = RTPFeedbackSet(rawValue: 1)
    /// `nack pli`.
    public static let pli = RTPFeedbackSet(rawValue: 2)
    /// `ccm fir` (RFC 5104).
    public static let fir = RTPFeedbackSet(rawValue: 4)
    /// `transport-cc`.
    public static let transportCC = RTPFeedbackSet(rawValue: 8)

    public static let video: RTPFeedbackSet = [.nack, .pli, .fir, .transportCC]
    public static let audio: RTPFeedbackSet = [.nack, .transportCC]

    /// In the order they are written.
    static let lines: [(RTPFeedbackSet, type: String, parameter: String?)] = [
        (.nack, "nack", nil), (.pli, "nack", "pli"), (.fir, "ccm", "fir"), (.transportCC, "transport-cc", nil),
    ]
}

/// Why an SDP is not a media session rtcbox can take, in words a log line or an `error` reason can carry.
public enum RTPNegotiationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No audio or video section (or all of them rejected with port 0).
    case noMedia
    case missingICECredentials
    /// ufrag or password not ice-chars of the lengths of RFC 8445 section 5.3.
    case invalidICECredentials
    case missingFingerprint
    /// Only fingerprints with hash functions RFC 8122 allows and lengths that match (the function named).
    case unsupportedFingerprint(String)
    case missingSetup
    /// a=setup:holdconn, or an answer whose role does not complement the offer's.
    case incompatibleSetup(SDPSetup)
    /// Both sides say a=ice-lite (RFC 8445 section 6.1.1 needs one full agent).
    case bothICELite
    /// The media section at this index (0-based) has no a=mid.
    case missingMid(section: Int)
    case duplicateMid(String)
    /// An m= section that is not audio or video (application, text, ...).
    case unsupportedMedia(mid: String, kind: String)
    /// A second section of a kind (rtcbox sends one track per kind).
    case duplicateMediaKind(RTPMediaKind)
    /// None of the section's codecs is H.264 (packetization-mode 1), Opus or AAC-hbr; the offered encodings.
    case noSupportedCodec(mid: String, offered: [String])
    case rtcpMuxRequired(mid: String)
    /// The section is not in the BUNDLE group (one transport carries everything).
    case notBundled(mid: String)
    /// An answer without a section the offer had.
    case unansweredMedia(mid: String)
    /// This side sends in the section but its model names no SSRC.
    case missingSSRC(mid: String)
    /// The sections give one header extension different ids (one RTP session: one id per URI).
    case conflictingExtensionIDs(uri: String)

    public var description: String {
        switch self {
        case .noMedia: return "the SDP has no audio or video section"
        case .missingICECredentials: return "the SDP has no a=ice-ufrag and a=ice-pwd"
        case .invalidICECredentials: return "the SDP's a=ice-ufrag or a=ice-pwd is not valid ICE characters and lengths"
        case .missingFingerprint: return "the SDP has no a=fingerprint"
        case .unsupportedFingerprint(let f): return "the SDP's a=fingerprint \(f.prefix(32)) is not a sha-1/224/256/384/512 digest"
        case .missingSetup: return "the SDP has no a=setup"
        case .incompatibleSetup(let s): return "a=setup:\(s.rawValue) cannot be answered with the DTLS role of this side"
        case .bothICELite: return "both sides are ICE-lite"
        case .missingMid(let i): return "media section \(i) has no a=mid"
        case .duplicateMid(let m): return "two media sections have a=mid:\(m.prefix(32))"
        case .unsupportedMedia(let m, let k): return "media section \(m.prefix(32)) is \(k.prefix(32)), not audio or video"
        case .duplicateMediaKind(let k): return "more than one \(k.rawValue) section"
        case .noSupportedCodec(let m, let offered):
            let list = offered.isEmpty ? "none" : offered.prefix(8).joined(separator: ", ")
            return "media section \(m.prefix(32)) has no codec rtcbox supports (H264 packetization-mode=1, opus, "
                + "mpeg4-generic AAC-hbr); offered: \(list.prefix(200))"
        case .rtcpMuxRequired(let m): return "media section \(m.prefix(32)) has no a=rtcp-mux"
        case .notBundled(let m): return "media section \(m.prefix(32)) is not in the a=group:BUNDLE"
        case .unansweredMedia(let m): return "the answer has no media section \(m.prefix(32))"
        case .missingSSRC(let m): return "media section \(m.prefix(32)) sends but has no SSRC"
        case .conflictingExtensionIDs(let uri): return "\(uri) has different a=extmap ids in different sections"
        }
    }
}

// MARK: Codecs in SDP

extension RTPCodec {
    /// The rtpmap encoding/clock/channels.
    var rtpMap: (encoding: String, clockRate: UInt32, channels: Int?) {
        switch self {
        case .h264: return ("H264", 90_000, nil)
        case .opus: return ("opus", 48_000, 2)
        case .aac(let rate, let channels, _): return ("mpeg4-generic", UInt32(clamping: rate), channels)
        }
    }

    /// The a=fmtp parameters.
    var formatParameters: String {
        switch self {
        case .h264: return "packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1"
        case .opus: return "minptime=10;useinbandfec=1"
        case .aac(_, _, let config): return AACPayload.fmtp(audioSpecificConfig: config)
        }
    }

    /// The codec an rtpmap and fmtp describe, nil for one this module does not carry.
    init?(rtpMap: SDPRTPMap, parameters: SDPFormatParameters?) {
        switch rtpMap.encoding.lowercased() {
        case "h264":
            // RFC 6184 section 8.1: packetization-mode defaults to 0 (single NAL unit), which rtcbox does not send.
            guard rtpMap.clockRate == 90_000, parameters?["packetization-mode"] == "1" else { return nil }
            self = .h264
        case "opus":
            // RFC 7587 section 7: always opus/48000/2.
            guard rtpMap.clockRate == 48_000, rtpMap.channels == 2 else { return nil }
            self = .opus
        case "mpeg4-generic":
            // RFC 3640 section 3.3.6, AAC-hbr: 13-bit sizes, 3-bit indices, the AudioSpecificConfig in hex.
            guard let p = parameters, p["mode"]?.lowercased() == "aac-hbr", p["sizelength"] == "13",
                p["indexlength"] == "3", p["indexdeltalength"] == "3", let hex = p["config"],
                let config = Self.bytes(hex: hex), (8_000...96_000).contains(rtpMap.clockRate)
            else { return nil }
            let channels = rtpMap.channels ?? 1
            guard (1...8).contains(channels) else { return nil }
            self = .aac(clockRate: Int(rtpMap.clockRate), channels: channels, audioSpecificConfig: config)
        default:
            return nil
        }
    }

    /// Whether `other` is the same format on the wire, the AudioSpecificConfig aside (the sender's fmtp gives it).
    func sameFormat(as other: RTPCodec) -> Bool {
        switch (self, other) {
        case (.h264, .h264), (.opus, .opus): return true
        case (.aac(let r1, let c1, _), .aac(let r2, let c2, _)): return r1 == r2 && c1 == c2
        default: return false
        }
    }

    /// 1 to 64 bytes of hex digits (AudioSpecificConfig is a few bytes).
    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0, digits.count <= 128 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}

extension RTPExtensionIDs {
    /// The URIs rtcbox knows, with the key path of each id.
    static var uris: [(uri: String, id: WritableKeyPath<RTPExtensionIDs, UInt8?>)] {
        [
            (RTPHeaderExtensionURI.absCaptureTime, \.absCaptureTime),
            (RTPHeaderExtensionURI.transportWideSequenceNumber, \.transportWideSequenceNumber),
            (RTPHeaderExtensionURI.sdesMid, \.mid),
            (RTPExtensionIDs.frameTimingURI, \.frameTiming),
            (RTPHeaderExtensionURI.audioLevel, \.audioLevel),
            (RTPHeaderExtensionURI.playoutDelay, \.playoutDelay),
        ]
    }
}
