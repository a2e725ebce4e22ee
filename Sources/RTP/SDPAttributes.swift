/// Media direction (RFC 8866 section 6.7): a=sendrecv / sendonly / recvonly / inactive.
public enum SDPDirection: String, Hashable, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive
}

/// a=setup (RFC 4145 section 4, RFC 5763 section 5): who starts DTLS. An offer says actpass,
/// the answer active or passive.
public enum SDPSetup: String, Hashable, Sendable, CaseIterable {
    case actpass, active, passive, holdconn
}

/// An attribute this model does not interpret, kept as it came: `a=name` or `a=name:value`.
public struct SDPAttribute: Hashable, Sendable {
    public var name: String
    public var value: String?
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
    var line: String { value.map { "a=\(name):\($0)" } ?? "a=\(name)" }
}

/// A line of a type this model does not interpret (i=, u=, e=, p=, r=, z=, k=, a second c=, ...).
public struct SDPLine: Hashable, Sendable {
    public var type: Unicode.Scalar
    public var value: String
    public init(type: Unicode.Scalar, value: String) {
        self.type = type
        self.value = value
    }
}

/// o= (RFC 8866 section 5.2): `username sess-id sess-version nettype addrtype address`.
public struct SDPOrigin: Hashable, Sendable {
    public var username = "-"
    /// Digits in practice (Chrome: 19 of them); kept as text.
    public var sessionID: String
    public var sessionVersion: UInt64
    public var networkType = "IN"
    public var addressType = "IP4"
    public var address = "127.0.0.1"

    public init(username: String = "-", sessionID: String, sessionVersion: UInt64, networkType: String = "IN",
                addressType: String = "IP4", address: String = "127.0.0.1") {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard t.count == 6 else { throw SDPValueError("6 fields") }
        self.init(username: String(t[0]), sessionID: String(t[1]), sessionVersion: try sdpNumber(t[2], "version"),
                  networkType: String(t[3]), addressType: String(t[4]), address: String(t[5]))
    }

    var sdpValue: String { "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType) \(address)" }
}

/// c= (RFC 8866 section 5.7): `nettype addrtype address`. WebRTC writes `IN IP4 0.0.0.0`.
public struct SDPConnection: Hashable, Sendable {
    public var networkType = "IN"
    public var addressType = "IP4"
    public var address = "0.0.0.0"

    public init(networkType: String = "IN", addressType: String = "IP4", address: String = "0.0.0.0") {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard t.count == 3 else { throw SDPValueError("3 fields") }
        self.init(networkType: String(t[0]), addressType: String(t[1]), address: String(t[2]))
    }

    var sdpValue: String { "\(networkType) \(addressType) \(address)" }
}

/// b= (RFC 8866 section 5.8; TIAS in RFC 3890): `type:kbps-or-bps`.
public struct SDPBandwidth: Hashable, Sendable {
    public var type: String
    public var value: UInt64
    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }

    init(sdpValue: Substring) throws {
        let (type, value) = sdpValue.sdpSplitFirst(":")
        guard let value else { throw SDPValueError("no ':'") }
        self.init(type: String(type), value: try sdpNumber(value, "bandwidth"))
    }

    var sdpValue: String { "\(type):\(value)" }
}

/// a=group (RFC 5888; BUNDLE in RFC 8843): `semantics mid...`.
public struct SDPGroup: Hashable, Sendable {
    public var semantics: String
    public var mids: [String]
    public init(semantics: String, mids: [String]) {
        self.semantics = semantics
        self.mids = mids
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard let first = t.first else { throw SDPValueError("no semantics") }
        self.init(semantics: String(first), mids: t.dropFirst().map(String.init))
    }

    var sdpValue: String { ([semantics] + mids).joined(separator: " ") }
}

/// a=msid-semantic (draft-ietf-mmusic-msid, as Chrome and Firefox still write it): `WMS [ids]`.
public struct SDPMsidSemantic: Hashable, Sendable {
    public var semantic: String
    public var identifiers: [String]
    public init(semantic: String = "WMS", identifiers: [String] = []) {
        self.semantic = semantic
        self.identifiers = identifiers
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard let first = t.first else { throw SDPValueError("no semantic") }
        self.init(semantic: String(first), identifiers: t.dropFirst().map(String.init))
    }

    var sdpValue: String { ([semantic] + identifiers).joined(separator: " ") }
}

/// a=fingerprint (RFC 8122 section 5): the hash of the DTLS certificate, `sha-256 AB:CD:...`.
public struct SDPFingerprint: Hashable, Sendable {
    public var hashFunction: String
    public var bytes: [UInt8]
    public init(hashFunction: String = "sha-256", bytes: [UInt8]) {
        self.hashFunction = hashFunction
        self.bytes = bytes
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard t.count == 2 else { throw SDPValueError("2 fields") }
        let pairs = t[1].unicodeScalars.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...64).contains(pairs.count) else { throw SDPValueError("fingerprint length") }
        var bytes: [UInt8] = []
        for pair in pairs {
            guard pair.count == 2, pair.allSatisfy(\.properties.isASCIIHexDigit),
                let byte = UInt8(String(String.UnicodeScalarView(pair)), radix: 16)
            else { throw SDPValueError("fingerprint hex") }
            bytes.append(byte)
        }
        self.init(hashFunction: String(t[0]), bytes: bytes)
    }

    /// Upper-case hex pairs with colons, as RFC 8122 writes them.
    public var hexValue: String {
        bytes.map { b in
            let h = String(b, radix: 16, uppercase: true)
            return b < 16 ? "0" + h : h
        }.joined(separator: ":")
    }

    var sdpValue: String { "\(hashFunction) \(hexValue)" }
}

/// a=rtpmap (RFC 8866 section 6.6): `pt encoding/clock[/channels]`.
public struct SDPRTPMap: Hashable, Sendable {
    public var payloadType: UInt8
    public var encoding: String
    public var clockRate: UInt32
    public var channels: Int?

    public init(payloadType: UInt8, encoding: String, clockRate: UInt32, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
    }

    init(sdpValue: Substring) throws {
        let (pt, rest) = sdpValue.sdpSplitFirstToken()
        guard let rest else { throw SDPValueError("no encoding") }
        let payloadType: UInt8 = try sdpNumber(pt, "payload type")
        guard payloadType < 128 else { throw SDPValueError("payload type \(payloadType)") }
        let parts = rest.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).map(Substring.init)
        guard (2...3).contains(parts.count), !parts[0].isEmpty, !parts[0].unicodeScalars.contains(" ") else {
            throw SDPValueError("encoding/clock")
        }
        self.init(payloadType: payloadType, encoding: String(parts[0]), clockRate: try sdpNumber(parts[1], "clock rate"),
                  channels: parts.count == 3 ? try sdpNumber(parts[2], "channels") as Int : nil)
    }

    var sdpValue: String {
        "\(payloadType) \(encoding)/\(clockRate)" + (channels.map { "/\($0)" } ?? "")
    }
}

/// a=fmtp (RFC 8866 section 6.15): `format parameters`, parameters usually `k=v;k=v`.
public struct SDPFormatParameters: Hashable, Sendable {
    public var format: String
    public var parameters: String

    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }

    /// `k=v;k=v` split (keys lower-cased; a bare token has an empty value).
    public var parameterList: [(key: String, value: String)] {
        parameters.split(separator: ";").compactMap { item in
            let trimmed = item.trimmingSDPSpaces()
            guard !trimmed.isEmpty else { return nil }
            let (k, v) = Substring(trimmed).sdpSplitFirst("=")
            return (String(k).lowercased(), v.map(String.init) ?? "")
        }
    }

    public subscript(key: String) -> String? {
        parameterList.first { $0.key == key.lowercased() }?.value
    }

    init(sdpValue: Substring) throws {
        let (format, rest) = sdpValue.sdpSplitFirstToken()
        guard !format.isEmpty else { throw SDPValueError("no format") }
        self.init(format: String(format), parameters: rest.map(String.init) ?? "")
    }

    var sdpValue: String { parameters.isEmpty ? format : "\(format) \(parameters)" }
}

extension StringProtocol {
    fileprivate func trimmingSDPSpaces() -> String {
        String(String.UnicodeScalarView(unicodeScalars.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()))
    }
}

/// a=rtcp-fb (RFC 4585 section 4.2): `pt|* type [parameters]`, e.g. `96 nack pli`, `* transport-cc`.
public struct SDPRTCPFeedback: Hashable, Sendable {
    public var format: String
    public var type: String
    public var parameter: String?

    public init(format: String, type: String, parameter: String? = nil) {
        self.format = format
        self.type = type
        self.parameter = parameter
    }

    init(sdpValue: Substring) throws {
        let (format, rest) = sdpValue.sdpSplitFirstToken()
        guard let rest else { throw SDPValueError("no type") }
        let (type, parameter) = rest.sdpSplitFirstToken()
        guard !type.isEmpty else { throw SDPValueError("no type") }
        self.init(format: String(format), type: String(type), parameter: parameter.map(String.init))
    }

    var sdpValue: String { "\(format) \(type)" + (parameter.map { " \($0)" } ?? "") }
}

/// a=extmap (RFC 8285 section 8): `id[/direction] uri [attributes]`.
public struct SDPExtMap: Hashable, Sendable {
    public var id: UInt16
    public var direction: SDPDirection?
    public var uri: String
    public var attributes: String?

    public init(id: UInt16, direction: SDPDirection? = nil, uri: String, attributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.attributes = attributes
    }

    init(sdpValue: Substring) throws {
        let (head, rest) = sdpValue.sdpSplitFirstToken()
        guard let rest else { throw SDPValueError("no uri") }
        let (idText, directionText) = head.sdpSplitFirst("/")
        let id: UInt16 = try sdpNumber(idText, "id")
        guard (1...4095).contains(id) else { throw SDPValueError("id \(id)") }
        var direction: SDPDirection?
        if let directionText {
            guard let d = SDPDirection(rawValue: String(directionText)) else { throw SDPValueError("direction") }
            direction = d
        }
        let (uri, attributes) = rest.sdpSplitFirstToken()
        guard !uri.isEmpty else { throw SDPValueError("no uri") }
        self.init(id: id, direction: direction, uri: String(uri), attributes: attributes.map(String.init))
    }

    var sdpValue: String {
        "\(id)" + (direction.map { "/\($0.rawValue)" } ?? "") + " \(uri)" + (attributes.map { " \($0)" } ?? "")
    }
}

/// a=ssrc (RFC 5576 section 4.1): `ssrc attribute[:value]`, e.g. `1234 cname:abc`.
public struct SDPSSRC: Hashable, Sendable {
    public var ssrc: UInt32
    public var attribute: String
    public var value: String?

    public init(ssrc: UInt32, attribute: String, value: String? = nil) {
        self.ssrc = ssrc
        self.attribute = attribute
        self.value = value
    }

    init(sdpValue: Substring) throws {
        let (ssrc, rest) = sdpValue.sdpSplitFirstToken()
        guard let rest, !rest.isEmpty else { throw SDPValueError("no attribute") }
        let (attribute, value) = rest.sdpSplitFirst(":")
        self.init(ssrc: try sdpNumber(ssrc, "ssrc"), attribute: String(attribute), value: value.map(String.init))
    }

    var sdpValue: String { "\(ssrc) \(attribute)" + (value.map { ":\($0)" } ?? "") }
}

/// a=ssrc-group (RFC 5576 section 4.2): `semantics ssrc...`, e.g. `FID 1234 5678` (RTX, RFC 4588).
public struct SDPSSRCGroup: Hashable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard let first = t.first else { throw SDPValueError("no semantics") }
        self.init(semantics: String(first), ssrcs: try t.dropFirst().map { try sdpNumber($0, "ssrc") })
    }

    var sdpValue: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

/// a=msid (RFC 8830 section 2): `stream-id [track-id]`.
public struct SDPMsid: Hashable, Sendable {
    public var stream: String
    public var track: String?

    public init(stream: String, track: String? = nil) {
        self.stream = stream
        self.track = track
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard (1...2).contains(t.count) else { throw SDPValueError("1 or 2 fields") }
        self.init(stream: String(t[0]), track: t.count == 2 ? String(t[1]) : nil)
    }

    var sdpValue: String { stream + (track.map { " \($0)" } ?? "") }
}
