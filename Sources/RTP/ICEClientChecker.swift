import NIOCore

/// Why the client's checks ended without (or lost) a working path.
public enum ICECheckFailure: Hashable, Sendable {
    /// No valid answer within the transmissions or the deadline (the caller falls back to TCP).
    case timeout
    /// The server refused the check with this ERROR-CODE (400, 401, 420, ...).
    case errorResponse(code: Int)
    /// Connected, then no valid answer to consent checks for the consent timeout (RFC 7675).
    case consentLost
}

/// What the caller does after `ICEClientChecker.poll(now:)`.
public enum ICEClientAction: Hashable, Sendable {
    /// Send this Binding request to the server, then poll again at `nextPoll`.
    case send(ByteBuffer, to: TransportAddress, nextPoll: Int64)
    /// Nothing to send; poll again at this time (microseconds).
    case wait(until: Int64)
    /// The checks failed; stop (poll keeps returning this).
    case failed(ICECheckFailure)
}

/// What a response did, from `ICEClientChecker.handle(response:from:now:)`.
public enum ICEClientEvent: Hashable, Sendable {
    /// The first valid success: the path works; `mapped` is our address as the server saw it.
    case connected(mapped: TransportAddress)
    /// A valid answer to a consent check (or a retransmission's duplicate answer).
    case consentRefreshed(mapped: TransportAddress)
    case failed(ICECheckFailure)
    /// Not for us, or not valid (unknown transaction, wrong source, bad integrity): ignored.
    case ignored
}

/// The client side of one ICE path to a lite server (RFC 8445 sections 7.2, 8.1.1, RFC 7675): the
/// full, controlling agent. It sends Binding requests with USE-CANDIDATE, PRIORITY, ICE-CONTROLLING
/// and MESSAGE-INTEGRITY keyed by the server's password (a lite server has one candidate, so the
/// first check nominates), retransmits on a doubling RTO (RFC 8489 section 6.2.1) until it gets a
/// verified answer or gives up, then keeps consent with a check every few seconds.
///
/// A pure value: the caller drives time. It calls `poll(now:)` at start and whenever the returned
/// time comes, sends what it says, and passes responses to `handle(response:from:now:)`.
public struct ICEClientChecker: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// First retransmission timeout; RFC 8445 paces checks at 50 ms, RFC 8489 suggests 500 ms on
        /// the open Internet; 100 ms suits one check to a known server.
        public var initialRTO: Int64 = 100_000
        /// The RTO stops doubling here.
        public var maximumRTO: Int64 = 1_600_000
        /// RFC 8489's Rc: transmissions of one request before giving up.
        public var maximumTransmissions = 7
        /// Give up after this long without a valid answer, whatever the schedule (rtcbox: 2 s, then TCP).
        public var deadline: Int64 = 2_000_000
        /// A consent check this often once connected (RFC 7675 section 5.1: about 5 s).
        public var consentInterval: Int64 = 5_000_000
        /// Consent is lost after this long without a valid answer (RFC 7675: 30 s).
        public var consentTimeout: Int64 = 30_000_000
        /// PRIORITY of the local candidate (RFC 8445 section 5.1.2: peer-reflexive type preference 110).
        public var priority: UInt32 = (110 << 24) | (65535 << 8) | (256 - 1)
        public var software: String?

        public init() {}
    }

    public let local: ICECredentials
    public let remote: ICECredentials
    public let server: TransportAddress
    public let tieBreaker: UInt64
    public let configuration: Configuration
    public private(set) var isControlling = true
    public private(set) var mappedAddress: TransportAddress?
    /// Responses that were ignored (unknown transaction, wrong source, bad integrity or fingerprint).
    public private(set) var ignoredResponses = 0

    private enum Phase: Hashable, Sendable {
        case checking
        case connected
        case failed(ICECheckFailure)
    }

    private var phase = Phase.checking
    private let startedAt: Int64
    private var transactionID: STUNTransactionID
    private var transmissions = 0
    private var rto: Int64
    private var nextTransmission: Int64
    /// Transaction ids of consent checks still awaiting an answer (bounded).
    private var outstandingConsent: [STUNTransactionID] = []
    private static let maximumOutstandingConsent = 8
    private var lastValidResponse: Int64 = 0
    private var nextConsentCheck: Int64 = 0

    public init(
        local: ICECredentials, remote: ICECredentials, server: TransportAddress,
        tieBreaker: UInt64 = UInt64.random(in: .min ... .max), configuration: Configuration = .init(), now: Int64
    ) {
        self.local = local
        self.remote = remote
        self.server = server
        self.tieBreaker = tieBreaker
        self.configuration = configuration
        self.startedAt = now
        self.transactionID = .random()
        self.rto = max(configuration.initialRTO, 1)
        self.nextTransmission = now
    }

    public var isConnected: Bool { phase == .connected }

    public var failure: ICECheckFailure? {
        if case .failed(let f) = phase { return f }
        return nil
    }

    /// What to send now, or when to come back.
    public mutating func poll(now: Int64) -> ICEClientAction {
        switch phase {
        case .failed(let failure):
            return .failed(failure)
        case .checking:
            let deadline = startedAt + configuration.deadline
            if now >= deadline { return fail(.timeout) }
            guard now >= nextTransmission else { return .wait(until: min(nextTransmission, deadline)) }
            guard transmissions < configuration.maximumTransmissions else { return fail(.timeout) }
            transmissions += 1
            nextTransmission = now + rto
            rto = min(rto * 2, configuration.maximumRTO)
            return .send(request(transactionID), to: server, nextPoll: min(nextTransmission, deadline))
        case .connected:
            let expiry = lastValidResponse + configuration.consentTimeout
            if now >= expiry { return fail(.consentLost) }
            guard now >= nextConsentCheck else { return .wait(until: min(nextConsentCheck, expiry)) }
            let id = STUNTransactionID.random()
            outstandingConsent.append(id)
            if outstandingConsent.count > Self.maximumOutstandingConsent { outstandingConsent.removeFirst() }
            // RFC 7675 5.1 randomizes the interval (0.8-1.2x); a pure value has no generator, so the
            // caller may jitter `consentInterval` per session. An unanswered check is not retransmitted:
            // the next one follows after the interval, and expiry is measured from the last answer.
            nextConsentCheck = now + max(configuration.consentInterval, 1)
            return .send(request(id), to: server, nextPoll: min(nextConsentCheck, expiry))
        }
    }

    /// Matches a response by transaction id and source, verifies FINGERPRINT and MESSAGE-INTEGRITY
    /// (the server's password), and reports what it means.
    public mutating func handle(response received: ReceivedSTUNMessage, from source: TransportAddress, now: Int64) -> ICEClientEvent {
        if case .failed = phase { return .ignored }
        let m = received.message
        let isCheck = m.transactionID == transactionID
        let consentIndex = outstandingConsent.firstIndex(of: m.transactionID)
        guard source == server, m.method == .binding, isCheck || consentIndex != nil,
            m.messageClass == .successResponse || m.messageClass == .errorResponse,
            !received.hasFingerprint || received.isFingerprintValid
        else { return ignore() }
        let authentic = received.hasIntegrity && received.isIntegrityValid(key: Array(remote.password.utf8))
        if received.hasIntegrity, !authentic { return ignore() }
        if m.messageClass == .errorResponse {
            let code = m.errorCode?.code ?? STUNErrorCode.badRequest
            if code == STUNErrorCode.roleConflict, authentic, phase == .checking {
                // RFC 8445 7.2.5.1: switch roles and check again (a new transaction, right away).
                isControlling.toggle()
                transactionID = .random()
                nextTransmission = now
                return .ignored
            }
            if phase == .connected { return ignore() }  // consent survives a stray error; expiry decides
            _ = fail(.errorResponse(code: code))
            return .failed(.errorResponse(code: code))
        }
        guard authentic, let mapped = m.xorMappedAddress ?? m.mappedAddress else { return ignore() }
        if let consentIndex { outstandingConsent.remove(at: consentIndex) }
        lastValidResponse = now
        mappedAddress = mapped
        if phase == .checking {
            phase = .connected
            nextConsentCheck = now + configuration.consentInterval
            return .connected(mapped: mapped)
        }
        return .consentRefreshed(mapped: mapped)
    }

    // MARK: Private

    private mutating func fail(_ failure: ICECheckFailure) -> ICEClientAction {
        phase = .failed(failure)
        return .failed(failure)
    }

    private mutating func ignore() -> ICEClientEvent {
        ignoredResponses += 1
        return .ignored
    }

    private func request(_ id: STUNTransactionID) -> ByteBuffer {
        var attributes: [STUNAttribute] = []
        if let software = configuration.software { attributes.append(.software(software)) }
        attributes.append(.username("\(remote.ufrag):\(local.ufrag)"))
        attributes.append(.priority(configuration.priority))
        attributes.append(isControlling ? .iceControlling(tieBreaker: tieBreaker) : .iceControlled(tieBreaker: tieBreaker))
        if isControlling { attributes.append(.useCandidate) }
        let message = STUNMessage(messageClass: .request, transactionID: id, attributes: attributes)
        // A few short attributes always fit; an empty buffer would just go unanswered.
        return (try? message.serialized(integrityKey: Array(remote.password.utf8), fingerprint: true)) ?? ByteBuffer()
    }
}
