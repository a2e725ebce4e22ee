import NIOCore

/// Where one ICE session stands (RFC 8445 section 6.1.3, RFC 7675 for consent).
public enum ICEConnectionState: Hashable, Sendable {
    /// No valid check yet.
    case new
    /// Valid checks arrived, none nominated a pair.
    case checking
    /// A pair is selected (USE-CANDIDATE) and consent is fresh.
    case connected
    /// Consent expired (no valid check from the selected address within the timeout), or no pair
    /// was ever nominated in that time. A nominated valid check brings the session back.
    case disconnected
}

/// Why a STUN request was refused or dropped; counted in `ICEStats`, never a state change.
public enum ICEInvalidReason: String, Hashable, Sendable, CaseIterable {
    /// Not a STUN message (parse error), counted by `handle(datagram:from:now:)`.
    case malformed
    /// A response, or a method other than Binding.
    case unexpectedMessage
    case missingFingerprint
    case badFingerprint
    /// 400: no USERNAME or no MESSAGE-INTEGRITY (RFC 8489 section 9.1.3).
    case missingCredentials
    /// 400: both ICE-CONTROLLING and ICE-CONTROLLED.
    case conflictingRoleAttributes
    /// 401: USERNAME is not "localUfrag:remoteUfrag".
    case wrongUsername
    /// 401: MESSAGE-INTEGRITY does not match the local password.
    case badIntegrity
    /// 420: a comprehension-required attribute this agent does not know.
    case unknownAttributes
    /// 487: the peer claims the controlled role too.
    case roleConflict
}

/// Counters of one agent: what came in and why some of it was refused.
public struct ICEStats: Hashable, Sendable {
    public var validChecks = 0
    public var nominations = 0
    /// How often the selected address moved to a new source (NAT rebinding, network change).
    public var selectedAddressChanges = 0
    /// Binding indications (keepalives), answered by nothing.
    public var indications = 0
    public private(set) var invalid: [ICEInvalidReason: Int] = [:]

    public init() {}

    public func count(_ reason: ICEInvalidReason) -> Int { invalid[reason, default: 0] }
    public var invalidTotal: Int { invalid.values.reduce(0, +) }

    mutating func record(_ reason: ICEInvalidReason) { invalid[reason, default: 0] += 1 }
}

/// What the caller does with a STUN request the agent handled.
public enum ICEAction: Hashable, Sendable {
    /// Send this response (success or error) to the request's source.
    case respond(ByteBuffer, to: TransportAddress)
    /// Send this success response, and from now on send media to `to`: the selected pair moved
    /// (first nomination, or a nominated check from a new source address). `previous` was selected before.
    case respondAndSelect(ByteBuffer, to: TransportAddress, previous: TransportAddress?)
    /// Send nothing (a keepalive indication).
    case ignore
    /// Send nothing; the datagram was not a STUN request this agent accepts.
    case drop(ICEInvalidReason)
}

/// What `tick` reports when time runs out.
public enum ICETimeout: Hashable, Sendable {
    /// No valid check from the selected address since `lastConsent` (RFC 7675 section 5.1).
    case consentExpired(lastConsent: Int64)
    /// No check was ever nominated since the agent was created.
    case neverConnected
}

/// The server side of one ICE session as a lite agent (RFC 8445 sections 2.5, 6.1.1, 7.3): it has
/// host candidates only, never sends checks, always takes the controlled role, and answers the full
/// peer's Binding requests. USE-CANDIDATE selects the request's source as the pair to send media on;
/// a later nominated check from another source moves it (NAT rebinding). Consent (RFC 7675) is kept
/// by valid checks from the selected address; `tick` says when it has expired.
///
/// A pure value: the caller passes parsed requests, source addresses and a monotonic `now` in
/// microseconds, and sends what the returned `ICEAction` says.
public struct ICELiteAgent: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// RFC 7675 section 5.1: consent expires 30 s after the last valid check.
        public var consentTimeout: Int64 = 30_000_000
        /// Requests without FINGERPRINT are dropped (RFC 8445 section 7.1 requires it in checks).
        public var requireFingerprint = true
        /// SOFTWARE in responses, if any.
        public var software: String?

        public init(consentTimeout: Int64 = 30_000_000, requireFingerprint: Bool = true, software: String? = nil) {
            self.consentTimeout = consentTimeout
            self.requireFingerprint = requireFingerprint
            self.software = software
        }
    }

    public let local: ICECredentials
    /// The peer's ufrag from its SDP (a=ice-ufrag); checks name it after the local one.
    public var remoteUfrag: String
    public let configuration: Configuration
    public private(set) var state: ICEConnectionState = .new
    public private(set) var selectedAddress: TransportAddress?
    /// When the last valid check from the selected address arrived (microseconds).
    public private(set) var lastConsent: Int64?
    public private(set) var stats = ICEStats()
    private let createdAt: Int64
    private var localKey: [UInt8] { Array(local.password.utf8) }

    public init(local: ICECredentials, remoteUfrag: String, configuration: Configuration = .init(), now: Int64) {
        self.local = local
        self.remoteUfrag = remoteUfrag
        self.configuration = configuration
        self.createdAt = now
    }

    /// The USERNAME a valid check carries: "localUfrag:remoteUfrag" (RFC 8445 section 7.2.2).
    public var expectedUsername: String { "\(local.ufrag):\(remoteUfrag)" }

    /// Parses a datagram and handles it; bytes that are not STUN count as `.malformed`.
    public mutating func handle(datagram: ByteBuffer, from source: TransportAddress, now: Int64) -> ICEAction {
        guard let received = try? STUNMessage.parse(datagram) else {
            stats.record(.malformed)
            return .drop(.malformed)
        }
        return handle(request: received, from: source, now: now)
    }

    /// Handles one parsed STUN message from `source`, in RFC 8489 section 6.3 order: fingerprint,
    /// then authentication (section 9.1.3: 400 without credentials, 401 for the wrong ones, no
    /// integrity on those answers), then unknown attributes (420), then the role (RFC 8445 7.3.1.1),
    /// then success with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT.
    public mutating func handle(request received: ReceivedSTUNMessage, from source: TransportAddress, now: Int64) -> ICEAction {
        let request = received.message
        guard request.method == .binding, request.messageClass == .request || request.messageClass == .indication else {
            return invalid(.unexpectedMessage)
        }
        if received.hasFingerprint {
            guard received.isFingerprintValid else { return invalid(.badFingerprint) }
        } else if configuration.requireFingerprint {
            return invalid(.missingFingerprint)
        }
        if request.messageClass == .indication {
            stats.indications += 1
            return .ignore
        }
        guard let username = request.username, received.hasIntegrity else {
            return reject(request, source, .missingCredentials, code: STUNErrorCode.badRequest, authenticated: false)
        }
        guard username.utf8.elementsEqual(expectedUsername.utf8) else {
            return reject(request, source, .wrongUsername, code: STUNErrorCode.unauthorized, authenticated: false)
        }
        guard received.isIntegrityValid(key: localKey) else {
            return reject(request, source, .badIntegrity, code: STUNErrorCode.unauthorized, authenticated: false)
        }
        if !received.unknownComprehensionRequired.isEmpty {
            let types = received.unknownComprehensionRequired.prefix(16).map(\.rawValue)
            return reject(request, source, .unknownAttributes, code: STUNErrorCode.unknownAttribute,
                          authenticated: true, extra: [.unknownAttributes(Array(types))])
        }
        if request.iceControlled != nil, request.iceControlling != nil {
            return reject(request, source, .conflictingRoleAttributes, code: STUNErrorCode.badRequest, authenticated: true)
        }
        if request.iceControlled != nil {
            // RFC 8445 7.3.1.1: a controlled agent that gets ICE-CONTROLLED compares tie-breakers and
            // either takes the controlling role or answers 487. A lite agent can never be controlling
            // against a full one (6.1.1), so it always loses the comparison: 487, which makes the
            // full peer switch to controlling (7.2.5.1).
            return reject(request, source, .roleConflict, code: STUNErrorCode.roleConflict, authenticated: true)
        }
        return accept(request, from: source, now: now)
    }

    /// Reports a timeout once, and moves to `.disconnected`: consent expired on the selected pair,
    /// or nothing was nominated within the consent timeout of the agent's creation.
    public mutating func tick(now: Int64) -> ICETimeout? {
        switch state {
        case .disconnected:
            return nil
        case .connected:
            guard let last = lastConsent, now - last >= configuration.consentTimeout else { return nil }
            state = .disconnected
            return .consentExpired(lastConsent: last)
        case .new, .checking:
            guard now - createdAt >= configuration.consentTimeout else { return nil }
            state = .disconnected
            return .neverConnected
        }
    }

    /// When `tick` next needs to run (microseconds), or nil when nothing can expire.
    public var nextDeadline: Int64? {
        switch state {
        case .disconnected: return nil
        case .connected: return lastConsent.map { $0 + configuration.consentTimeout }
        case .new, .checking: return createdAt + configuration.consentTimeout
        }
    }

    // MARK: Private

    private mutating func accept(_ request: STUNMessage, from source: TransportAddress, now: Int64) -> ICEAction {
        stats.validChecks += 1
        var attributes: [STUNAttribute] = [.xorMappedAddress(source)]
        if let software = configuration.software { attributes.insert(.software(software), at: 0) }
        let response = STUNMessage(messageClass: .successResponse, transactionID: request.transactionID, attributes: attributes)
        guard let bytes = try? response.serialized(integrityKey: localKey, fingerprint: true) else {
            return .ignore  // unreachable: a response of a handful of short attributes always fits
        }
        if request.useCandidate {
            stats.nominations += 1
            let previous = selectedAddress
            let wasConnected = state == .connected
            state = .connected
            lastConsent = now
            if previous != source {
                if previous != nil { stats.selectedAddressChanges += 1 }
                selectedAddress = source
                return .respondAndSelect(bytes, to: source, previous: previous)
            }
            if !wasConnected {
                return .respondAndSelect(bytes, to: source, previous: previous)
            }
            return .respond(bytes, to: source)
        }
        if state == .new { state = .checking }
        if state == .connected, source == selectedAddress { lastConsent = now }
        return .respond(bytes, to: source)
    }

    private mutating func invalid(_ reason: ICEInvalidReason) -> ICEAction {
        stats.record(reason)
        return .drop(reason)
    }

    private mutating func reject(
        _ request: STUNMessage, _ source: TransportAddress, _ reason: ICEInvalidReason, code: Int,
        authenticated: Bool, extra: [STUNAttribute] = []
    ) -> ICEAction {
        stats.record(reason)
        var attributes: [STUNAttribute] = [.errorCode(STUNErrorCode(code: code, reason: STUNErrorCode.standardReason(code)))]
        attributes += extra
        if let software = configuration.software { attributes.insert(.software(software), at: 0) }
        let response = STUNMessage(messageClass: .errorResponse, transactionID: request.transactionID, attributes: attributes)
        guard let bytes = try? response.serialized(integrityKey: authenticated ? localKey : nil, fingerprint: true) else {
            return .drop(reason)
        }
        return .respond(bytes, to: source)
    }
}
