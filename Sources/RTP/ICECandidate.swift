/// An ICE candidate as a=candidate carries it (RFC 8839 section 5.1):
/// `foundation component transport priority address port typ type [raddr a] [rport p] *(name value)`,
/// e.g. `1 1 udp 2130706431 192.0.2.1 50000 typ host generation 0`. The address may be an mDNS
/// name (`<uuid>.local`), so it stays text; `transportAddress` gives the IP form when it is one.
public struct ICECandidate: Hashable, Sendable, CustomStringConvertible {
    public enum CandidateType: Hashable, Sendable {
        case host, serverReflexive, peerReflexive, relay
        case other(String)

        init(_ text: Substring) {
            switch text {
            case "host": self = .host
            case "srflx": self = .serverReflexive
            case "prflx": self = .peerReflexive
            case "relay": self = .relay
            default: self = .other(String(text))
            }
        }

        public var sdpName: String {
            switch self {
            case .host: return "host"
            case .serverReflexive: return "srflx"
            case .peerReflexive: return "prflx"
            case .relay: return "relay"
            case .other(let s): return s
            }
        }
    }

    public var foundation: String
    public var component: Int
    /// `udp` or `tcp` (any case on the wire; kept as written).
    public var transport: String
    public var priority: UInt32
    public var address: String
    public var port: UInt16
    public var type: CandidateType
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// The extension pairs after them, in order: `tcptype`, `generation`, `ufrag`, `network-id`, ...
    public var extensions: [Extension]

    public struct Extension: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        foundation: String, component: Int = 1, transport: String = "udp", priority: UInt32, address: String, port: UInt16,
        type: CandidateType = .host, relatedAddress: String? = nil, relatedPort: UInt16? = nil, extensions: [Extension] = []
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.extensions = extensions
    }

    /// Parses the attribute value, with or without the leading `candidate:` (trickle sends it with).
    public init(parsing text: some StringProtocol) throws {
        var value = Substring(text)
        let (name, rest) = value.sdpSplitFirst(":")
        if name == "candidate", let rest { value = rest }
        do {
            try self.init(sdpValue: value)
        } catch let e as SDPValueError {
            throw SDPParseError.malformedAttribute(line: 0, name: "candidate", reason: e.reason)
        }
    }

    init(sdpValue: Substring) throws {
        let t = sdpValue.sdpTokens()
        guard t.count >= 8, t[6] == "typ" else { throw SDPValueError("fields before 'typ type'") }
        let component: Int = try sdpNumber(t[1], "component")
        guard (1...256).contains(component) else { throw SDPValueError("component \(component)") }
        guard (1...32).contains(t[0].unicodeScalars.count) else { throw SDPValueError("foundation") }
        self.init(foundation: String(t[0]), component: component, transport: String(t[2]),
                  priority: try sdpNumber(t[3], "priority"), address: String(t[4]), port: try sdpNumber(t[5], "port"),
                  type: CandidateType(t[7]))
        let pairs = t.dropFirst(8)
        guard pairs.count % 2 == 0 else { throw SDPValueError("extension without a value") }
        var i = pairs.startIndex
        while i < pairs.endIndex {
            let name = pairs[i]
            let value = pairs[i + 1]
            if name == "raddr", relatedAddress == nil {
                relatedAddress = String(value)
            } else if name == "rport", relatedPort == nil {
                relatedPort = try sdpNumber(value, "rport")
            } else {
                extensions.append(Extension(name: String(name), value: String(value)))
            }
            i += 2
        }
    }

    /// The value after `a=candidate:`.
    public var sdpValue: String {
        var parts = [foundation, String(component), transport, String(priority), address, String(port), "typ", type.sdpName]
        if let relatedAddress { parts += ["raddr", relatedAddress] }
        if let relatedPort { parts += ["rport", String(relatedPort)] }
        for e in extensions { parts += [e.name, e.value] }
        return parts.joined(separator: " ")
    }

    /// `candidate:...`, the form RTCIceCandidate.candidate and trickle messages use.
    public var description: String { "candidate:" + sdpValue }

    /// The address as an IP and port, when it is a literal (not an mDNS name).
    public var transportAddress: TransportAddress? {
        TransportAddress.IP(address).map { TransportAddress(ip: $0, port: port) }
    }

    /// `tcptype` (RFC 6544) when present.
    public var tcpType: String? { extensions.first { $0.name == "tcptype" }?.value }

    /// RFC 8445 section 5.1.2.1: (2^24 type preference) + (2^8 local preference) + (256 - component).
    public static func priority(typePreference: UInt32, localPreference: UInt32 = 65535, component: Int = 1) -> UInt32 {
        (min(typePreference, 126) << 24) | (min(localPreference, 65535) << 8) | UInt32(256 - min(max(component, 1), 256))
    }
}
