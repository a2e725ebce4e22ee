import NIOCore

/// Routes the datagrams of the server's one UDP port (BUNDLE, rtcp-mux, every session on it) to sessions,
/// as RFC 7983 demultiplexes them: a STUN binding request finds its session by the first half of its
/// USERNAME (the server's ICE ufrag for that session, RFC 8445 7.2.2); everything else (DTLS, SRTP, SRTCP)
/// only by a source address ICE has selected for a session. A datagram from anywhere else is dropped and
/// counted, before any parsing beyond two bytes: a flood of unknown or spoofed packets costs no state.
/// Pure: the caller owns the socket, and binds an address when its session's ICE agent selects it.
public struct UDPSessionRouter<Session: Hashable & Sendable>: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Sessions the port serves at most.
        public var maxSessions: Int
        /// Source addresses one session may be reached from at once (NAT rebinding, several candidates);
        /// a new one beyond that replaces the one bound longest ago.
        public var maxAddressesPerSession: Int

        public init(maxSessions: Int = 10_000, maxAddressesPerSession: Int = 4) {
            self.maxSessions = max(1, maxSessions)
            self.maxAddressesPerSession = max(1, maxAddressesPerSession)
        }
    }

    /// Why a datagram went nowhere.
    public enum DropReason: String, Sendable, Hashable, CaseIterable {
        /// Not STUN, DTLS, RTP or RTCP by its first byte (or shorter than a header).
        case unknownKind = "unknown_kind"
        /// STUN that does not parse.
        case malformedSTUN = "malformed_stun"
        /// A STUN message that is no request, or a request without a USERNAME of the form local:remote.
        case stunWithoutUsername = "stun_without_username"
        /// A USERNAME naming no session here.
        case unknownUfrag = "unknown_ufrag"
        /// DTLS, RTP or RTCP from an address no session's ICE selected (unknown sessions, spoofed sources).
        case unknownSource = "unknown_source"
    }

    public enum Route: Sendable, Equatable {
        /// A binding request for `session`: give it to that session's ICE agent.
        case stun(Session, ReceivedSTUNMessage)
        case dtls(Session)
        case rtp(Session)
        case rtcp(Session)
        case drop(DropReason)
    }

    public enum RegistrationError: Error, Equatable, CustomStringConvertible {
        case full(limit: Int)
        case ufragInUse(String)

        public var description: String {
            switch self {
            case .full(let limit): return "the UDP port already serves \(limit) sessions"
            case .ufragInUse(let ufrag): return "the ICE ufrag \"\(ufrag)\" is another session's"
            }
        }
    }

    public let limits: Limits
    private var byUfrag: [String: Session] = [:]
    private var ufragOf: [Session: String] = [:]
    private var byAddress: [TransportAddress: Session] = [:]
    /// Each session's bound addresses, the one bound longest ago first.
    private var addressesOf: [Session: [TransportAddress]] = [:]
    public private(set) var drops: [DropReason: Int] = [:]
    public private(set) var routed = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var sessionCount: Int { ufragOf.count }

    /// A session answers STUN to this local ufrag from now on.
    public mutating func register(_ session: Session, localUfrag: String) throws(RegistrationError) {
        if let owner = byUfrag[localUfrag], owner != session { throw .ufragInUse(localUfrag) }
        if ufragOf[session] == nil, ufragOf.count >= limits.maxSessions { throw .full(limit: limits.maxSessions) }
        if let old = ufragOf[session], old != localUfrag { byUfrag[old] = nil }
        byUfrag[localUfrag] = session
        ufragOf[session] = localUfrag
    }

    /// The session ends: its ufrag and addresses route nowhere.
    public mutating func remove(_ session: Session) {
        if let ufrag = ufragOf.removeValue(forKey: session) { byUfrag[ufrag] = nil }
        for address in addressesOf.removeValue(forKey: session) ?? [] where byAddress[address] == session {
            byAddress[address] = nil
        }
    }

    /// ICE selected `address` for `session` (a nominated, authenticated check came from it): DTLS and media
    /// from there are the session's. An address another session had moves to this one (a NAT rebound it).
    public mutating func bind(_ session: Session, to address: TransportAddress) {
        guard ufragOf[session] != nil else { return }
        if let other = byAddress[address], other != session {
            addressesOf[other]?.removeAll { $0 == address }
        }
        var list = addressesOf[session, default: []]
        list.removeAll { $0 == address }
        list.append(address)
        while list.count > limits.maxAddressesPerSession {
            let evicted = list.removeFirst()
            if byAddress[evicted] == session { byAddress[evicted] = nil }
        }
        addressesOf[session] = list
        byAddress[address] = session
    }

    /// The addresses bound for a session, the newest last (media goes to the newest).
    public func addresses(of session: Session) -> [TransportAddress] { addressesOf[session] ?? [] }

    /// Where one datagram goes.
    public mutating func route(_ datagram: ByteBuffer, from source: TransportAddress) -> Route {
        let route = decide(datagram, from: source)
        if case .drop(let reason) = route { drops[reason, default: 0] += 1 } else { routed += 1 }
        return route
    }

    private func decide(_ datagram: ByteBuffer, from source: TransportAddress) -> Route {
        switch PacketDemux.classify(datagram) {
        case .stun:
            guard let received = try? STUNMessage.parse(datagram) else { return .drop(.malformedSTUN) }
            guard received.message.messageClass == .request, let username = received.message.username,
                  let colon = username.firstIndex(of: ":"), colon != username.startIndex else { return .drop(.stunWithoutUsername) }
            guard let session = byUfrag[String(username[..<colon])] else { return .drop(.unknownUfrag) }
            return .stun(session, received)
        case .dtls:
            return byAddress[source].map { .dtls($0) } ?? .drop(.unknownSource)
        case .rtp:
            return byAddress[source].map { .rtp($0) } ?? .drop(.unknownSource)
        case .rtcp:
            return byAddress[source].map { .rtcp($0) } ?? .drop(.unknownSource)
        case .unknown:
            return .drop(.unknownKind)
        }
    }
}
