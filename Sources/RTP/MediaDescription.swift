/// One m= section of an SDP (RFC 8866 section 5.14) with the attributes WebRTC uses typed (JSEP,
/// RFC 8829 section 5.2): mid and direction, ICE (RFC 8839), DTLS (RFC 8122, RFC 5763), rtcp-mux
/// (RFC 5761), reduced-size RTCP (RFC 5506), codecs (rtpmap, fmtp, rtcp-fb), header extensions
/// (RFC 8285), sources (RFC 5576) and msid (RFC 8830). Anything else is kept in `otherAttributes`
/// and `otherLines`, in order.
public struct MediaDescription: Hashable, Sendable {
    /// `audio`, `video`, `application`, ...
    public var kind: String
    public var port: UInt16
    public var portCount: Int?
    /// `UDP/TLS/RTP/SAVPF` for WebRTC media.
    public var proto: String
    /// Payload types for RTP (as text, as the m= line has them), or e.g. `webrtc-datachannel`.
    public var formats: [String]
    public var connection: SDPConnection?
    public var bandwidths: [SDPBandwidth] = []
    public var mid: String?
    public var direction: SDPDirection?
    public var iceUfrag: String?
    public var icePassword: String?
    public var iceOptions: [String] = []
    public var fingerprints: [SDPFingerprint] = []
    public var setup: SDPSetup?
    public var rtcpMux = false
    public var rtcpReducedSize = false
    public var rtpMaps: [SDPRTPMap] = []
    public var formatParameters: [SDPFormatParameters] = []
    public var rtcpFeedback: [SDPRTCPFeedback] = []
    public var extensionMaps: [SDPExtMap] = []
    public var ssrcs: [SDPSSRC] = []
    public var ssrcGroups: [SDPSSRCGroup] = []
    public var msids: [SDPMsid] = []
    public var candidates: [ICECandidate] = []
    public var endOfCandidates = false
    public var otherAttributes: [SDPAttribute] = []
    public var otherLines: [SDPLine] = []

    public init(kind: String, port: UInt16 = 9, portCount: Int? = nil, proto: String = "UDP/TLS/RTP/SAVPF", formats: [String]) {
        self.kind = kind
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
    }

    /// The rtpmap of a payload type.
    public func rtpMap(payloadType: UInt8) -> SDPRTPMap? {
        rtpMaps.first { $0.payloadType == payloadType }
    }

    /// The fmtp of a payload type.
    public func formatParameters(payloadType: UInt8) -> SDPFormatParameters? {
        formatParameters.first { $0.format == String(payloadType) }
    }

    /// The rtcp-fb lines that apply to a payload type (its own and the `*` ones).
    public func rtcpFeedback(payloadType: UInt8) -> [SDPRTCPFeedback] {
        rtcpFeedback.filter { $0.format == "*" || $0.format == String(payloadType) }
    }

    // MARK: Parsing and writing

    init(mLine value: Substring) throws {
        let t = value.sdpTokens()
        guard t.count >= 3 else { throw SDPValueError("m= needs media, port and proto") }
        let (portText, countText) = t[1].sdpSplitFirst("/")
        self.init(kind: String(t[0]), port: try sdpNumber(portText, "port"),
                  portCount: try countText.map { try sdpNumber($0, "port count") as Int },
                  proto: String(t[2]), formats: t.dropFirst(3).map(String.init))
    }

    var mLine: String {
        let port = String(self.port) + (portCount.map { "/\($0)" } ?? "")
        return "m=" + ([kind, port, proto] + formats).joined(separator: " ")
    }

    /// Takes one a= line of this section.
    mutating func add(attribute name: Substring, value: Substring?) throws {
        switch (name, value) {
        case ("mid", let v?) where mid == nil: mid = String(v)
        case ("sendrecv", nil) where direction == nil,
            ("sendonly", nil) where direction == nil,
            ("recvonly", nil) where direction == nil,
            ("inactive", nil) where direction == nil:
            direction = SDPDirection(rawValue: String(name))
        case ("ice-ufrag", let v?) where iceUfrag == nil: iceUfrag = String(v)
        case ("ice-pwd", let v?) where icePassword == nil: icePassword = String(v)
        case ("ice-options", let v?): iceOptions += v.sdpTokens().map(String.init)
        case ("fingerprint", let v?): fingerprints.append(try SDPFingerprint(sdpValue: v))
        case ("setup", let v?) where setup == nil:
            guard let s = SDPSetup(rawValue: String(v)) else { throw SDPValueError("setup \"\(v.prefix(16))\"") }
            setup = s
        case ("rtcp-mux", nil) where !rtcpMux: rtcpMux = true
        case ("rtcp-rsize", nil) where !rtcpReducedSize: rtcpReducedSize = true
        case ("rtpmap", let v?): rtpMaps.append(try SDPRTPMap(sdpValue: v))
        case ("fmtp", let v?): formatParameters.append(try SDPFormatParameters(sdpValue: v))
        case ("rtcp-fb", let v?): rtcpFeedback.append(try SDPRTCPFeedback(sdpValue: v))
        case ("extmap", let v?): extensionMaps.append(try SDPExtMap(sdpValue: v))
        case ("ssrc", let v?): ssrcs.append(try SDPSSRC(sdpValue: v))
        case ("ssrc-group", let v?): ssrcGroups.append(try SDPSSRCGroup(sdpValue: v))
        case ("msid", let v?): msids.append(try SDPMsid(sdpValue: v))
        case ("candidate", let v?): candidates.append(try ICECandidate(sdpValue: v))
        case ("end-of-candidates", nil) where !endOfCandidates: endOfCandidates = true
        default: otherAttributes.append(SDPAttribute(name: String(name), value: value.map(String.init)))
        }
    }

    /// RFC 8866 section 5 order within a media section: m, i, c, b, (k and others), a.
    func write(into out: inout String) {
        func line(_ text: String) { out += text + "\r\n" }
        line(mLine)
        // Unknown lines: i= before c= and b=, the rest after (the parser keeps them in that order).
        for l in otherLines where l.type == "i" { line("\(Character(l.type))=\(l.value)") }
        if let connection { line("c=" + connection.sdpValue) }
        for b in bandwidths { line("b=" + b.sdpValue) }
        for l in otherLines where l.type != "i" { line("\(Character(l.type))=\(l.value)") }
        for c in candidates { line("a=candidate:" + c.sdpValue) }
        if endOfCandidates { line("a=end-of-candidates") }
        if let iceUfrag { line("a=ice-ufrag:" + iceUfrag) }
        if let icePassword { line("a=ice-pwd:" + icePassword) }
        if !iceOptions.isEmpty { line("a=ice-options:" + iceOptions.joined(separator: " ")) }
        for f in fingerprints { line("a=fingerprint:" + f.sdpValue) }
        if let setup { line("a=setup:" + setup.rawValue) }
        if let mid { line("a=mid:" + mid) }
        for e in extensionMaps { line("a=extmap:" + e.sdpValue) }
        if let direction { line("a=" + direction.rawValue) }
        for m in msids { line("a=msid:" + m.sdpValue) }
        if rtcpMux { line("a=rtcp-mux") }
        if rtcpReducedSize { line("a=rtcp-rsize") }
        // Each list in its own order (so a parsed section writes back to the same model).
        for r in rtpMaps { line("a=rtpmap:" + r.sdpValue) }
        for f in rtcpFeedback { line("a=rtcp-fb:" + f.sdpValue) }
        for f in formatParameters { line("a=fmtp:" + f.sdpValue) }
        for g in ssrcGroups { line("a=ssrc-group:" + g.sdpValue) }
        for s in ssrcs { line("a=ssrc:" + s.sdpValue) }
        for a in otherAttributes { line(a.line) }
    }
}
