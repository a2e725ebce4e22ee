import CDTLS
import NIOCore

/// One DTLS 1.2 association of DTLS-SRTP (RFC 5763, RFC 5764) driven by datagrams and a clock, with no
/// socket and no timer of its own: OpenSSL runs over two memory BIOs, the caller feeds it each received
/// datagram and each timer expiry and sends the datagrams it returns. The result of the handshake is
/// the SRTP keying material (RFC 5764 section 4.2) for an `SRTPSession`.
///
/// Authentication is WebRTC's: the peer must present a certificate (any: self-signed is the norm), and
/// its fingerprint must be the one the remote SDP signalled (RFC 5763 section 5, RFC 8122). Only
/// DTLS 1.2 with ECDHE-ECDSA AEAD suites and the use_srtp extension is spoken.
///
/// No cookie exchange (RFC 6347 section 4.2.1): the address of every datagram fed here was already
/// proved by ICE connectivity checks (RFC 8445 section 7.2.5; consent, RFC 7675), which is what the
/// cookie would prove, so the server answers the first ClientHello directly.
///
/// Threading: OpenSSL's SSL objects are not thread-safe, so this is a non-Sendable class owned by one
/// event loop; every call must come from it. The caller's `now` is a monotonic time in microseconds.
/// OpenSSL 3.0 reads the wall clock itself for its retransmission timer (it offers no clock hook), so
/// `now` places that timer's deadline on the caller's clock, and `handleTimeout(now:)` retransmits once
/// both clocks agree the deadline has passed.
public final class DTLSEndpoint {
    /// Which side of the handshake this is. RFC 5763 section 5: the side whose SDP says
    /// `a=setup:active` is the DTLS client, `a=setup:passive` the server (an ICE-lite server answers
    /// passive).
    public enum Role: Sendable, Hashable {
        case client
        case server
    }

    /// Settings that rarely change from their defaults.
    public struct Configuration: Sendable, Hashable {
        /// The largest datagram sent, in octets. 1200 keeps a flight clear of IPv6's minimum MTU with
        /// TURN and VPN overhead (what browsers use).
        public var mtu: Int = 1200
        /// The SRTP protection profiles offered (a client) or accepted (a server), most preferred first.
        /// OpenSSL's server picks by its own order among those the client offered.
        public var srtpProfiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]
        /// The first retransmission timeout in microseconds, doubled on each retransmission up to
        /// `maximumRetransmitTimeout` (RFC 6347 section 4.2.4.1: 1 s, then up to 60 s). At least 50 ms:
        /// OpenSSL counts a timer with under 15 ms left as expired.
        public var initialRetransmitTimeout: Int64 = 1_000_000
        public var maximumRetransmitTimeout: Int64 = 60_000_000

        public init() {}
    }

    /// Where the association is.
    public enum State: Sendable, Hashable {
        /// Made, `start(now:)` not yet called.
        case idle
        case handshaking
        /// The handshake completed and the peer's fingerprint checked; `keyingMaterial` is set.
        case connected
        /// Either side sent close_notify.
        case closed
        case failed
    }

    public let role: Role
    public let remoteFingerprint: DTLSFingerprint
    public let configuration: Configuration
    public private(set) var state: State = .idle
    /// The SRTP keys once `state` is `.connected`.
    public private(set) var keyingMaterial: SRTPKeyingMaterial?

    // The certificate is kept alive with the context that uses it (the context holds its own
    // references too).
    private let certificate: DTLSCertificate
    /// SSL_CTX *
    private let context: OpaquePointer
    /// SSL *, owning `readBIO` and `writeBIO`.
    private let ssl: OpaquePointer
    /// BIO *: datagrams from the peer go in here.
    private let readBIO: OpaquePointer
    /// BIO *: OpenSSL's records for the peer come out here.
    private let writeBIO: OpaquePointer
    /// The retransmission deadline on the caller's clock, if a timer runs.
    private var deadline: Int64?
    private let allocator = ByteBufferAllocator()

    /// The largest datagram taken from the peer (larger ones are dropped: UDP's own limit).
    static let maximumDatagramSize = 65_535

    /// The ciphers: ECDHE with an ECDSA certificate and an AEAD, DTLS 1.2's only sound suites and the
    /// ones every browser offers.
    static let cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
    static let groupsList = "X25519:P-256:P-384"
    /// RFC 5764 section 4.2.
    static let exporterLabel = "EXTRACTOR-dtls_srtp"

    /// Sets up the association; nothing is sent until `start(now:)`. `remoteFingerprint` is the remote
    /// SDP's `a=fingerprint` (any RFC 8122 hash function).
    public init(role: Role, certificate: DTLSCertificate, remoteFingerprint: DTLSFingerprint,
                configuration: Configuration = Configuration()) throws(DTLSError) {
        guard !configuration.srtpProfiles.isEmpty else { throw .invalidConfiguration("no SRTP profile") }
        guard (256...65_535).contains(configuration.mtu) else {
            throw .invalidConfiguration("MTU \(configuration.mtu) is outside 256...65535")
        }
        guard configuration.initialRetransmitTimeout >= 50_000,
              configuration.maximumRetransmitTimeout >= configuration.initialRetransmitTimeout,
              configuration.maximumRetransmitTimeout <= 600_000_000 else {
            throw .invalidConfiguration("retransmission timeouts must be 50 ms <= initial <= maximum <= 600 s")
        }
        self.role = role
        self.certificate = certificate
        self.remoteFingerprint = remoteFingerprint
        self.configuration = configuration

        OpenSSLError.clearQueue()
        let context = try Self.makeContext(certificate: certificate, profiles: configuration.srtpProfiles)
        guard let ssl = SSL_new(context) else {
            let error = OpenSSLError.drain("SSL_new")
            SSL_CTX_free(context)
            throw .setupFailed(error)
        }
        guard let readBIO = BIO_new(BIO_s_mem()) else {
            let error = OpenSSLError.drain("BIO_new")
            SSL_free(ssl)
            SSL_CTX_free(context)
            throw .setupFailed(error)
        }
        guard let writeBIO = BIO_new(BIO_s_mem()) else {
            let error = OpenSSLError.drain("BIO_new")
            BIO_free(readBIO)
            SSL_free(ssl)
            SSL_CTX_free(context)
            throw .setupFailed(error)
        }
        // An empty memory BIO reads as "retry later", not end of file.
        rtcbox_BIO_set_mem_eof_return(readBIO, -1)
        rtcbox_BIO_set_mem_eof_return(writeBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both from here on
        self.context = context
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO

        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
        // The link MTU is set (SSL_OP_NO_QUERY_MTU): a memory BIO adds no overhead, so it is also the
        // largest datagram OpenSSL fragments handshake messages into.
        guard rtcbox_SSL_set_mtu(ssl, configuration.mtu) == 1, rtcbox_DTLS_set_link_mtu(ssl, configuration.mtu) == 1 else {
            throw .invalidConfiguration("OpenSSL refused MTU \(configuration.mtu): \(OpenSSLError.drain("SSL_set_mtu"))")
        }
        // The retransmission timer's durations come from `configuration` through the SSL's app data.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        DTLS_set_timer_cb(ssl, dtlsTimerDuration)
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs
        SSL_CTX_free(context)
    }

    /// Begins the handshake: a client sends its ClientHello, a server waits for one.
    public func start(now: Int64) -> DTLSOutput {
        guard state == .idle else { return unchanged() }
        state = .handshaking
        let event = role == .client ? advanceHandshake() : nil
        return output(now: now, event: event)
    }

    /// Takes one datagram from the peer (already demultiplexed as DTLS: first octet 20...63, RFC 7983).
    /// A server that was not started starts on its first datagram.
    public func handle(datagram: ByteBuffer, now: Int64) -> DTLSOutput {
        if state == .idle, role == .server { state = .handshaking }
        guard state == .handshaking || state == .connected,
              datagram.readableBytes > 0, datagram.readableBytes <= Self.maximumDatagramSize else {
            return unchanged()
        }
        let written = datagram.withUnsafeReadableBytes { raw in
            BIO_write(readBIO, raw.baseAddress, Int32(raw.count))
        }
        guard written == datagram.readableBytes else {
            return fail(.setupFailed(.drain("BIO_write")), now: now)
        }
        var event: DTLSEvent?
        if state == .handshaking {
            event = advanceHandshake()
        }
        // Records after the handshake: alerts, a retransmitted Finished that OpenSSL answers with its
        // last flight, application data (none is used: it is read and dropped).
        if state == .connected, let later = readRecords() {
            event = later
        }
        // Whatever OpenSSL did not consume (part of an oversized datagram) must not prefix the next one.
        _ = rtcbox_BIO_reset(readBIO)
        return output(now: now, event: event)
    }

    /// Retransmits the last flight when the timer set by an earlier output has expired; call it at
    /// that deadline (earlier calls do nothing but return the deadline again).
    public func handleTimeout(now: Int64) -> DTLSOutput {
        guard state == .handshaking || state == .connected, let deadline, now >= deadline else {
            return unchanged()  // early: the timer stands as it was set
        }
        OpenSSLError.clearQueue()
        if rtcbox_DTLSv1_handle_timeout(ssl) < 0 {
            return fail(.handshakeTimedOut(.drain("DTLSv1_handle_timeout")), now: now)
        }
        return output(now: now)
    }

    /// Ends the association with a close_notify alert (RFC 5246 section 7.2.1) to send.
    public func close(now: Int64) -> DTLSOutput {
        guard state == .handshaking || state == .connected else { return unchanged() }
        OpenSSLError.clearQueue()
        _ = SSL_shutdown(ssl)
        OpenSSLError.clearQueue()
        state = .closed
        return output(now: now)
    }

    // MARK: - Driving OpenSSL

    /// Runs SSL_do_handshake once; the event when it completed or failed.
    private func advanceHandshake() -> DTLSEvent? {
        OpenSSLError.clearQueue()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            return completeHandshake()
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return nil
        default:
            return failure(.handshakeFailed(.drain("SSL_do_handshake")))
        }
    }

    /// Checks the peer, reads the negotiated profile and exports the keys.
    private func completeHandshake() -> DTLSEvent {
        guard let peer = SSL_get1_peer_certificate(ssl) else { return failure(.peerCertificateMissing) }
        defer { X509_free(peer) }
        guard let actual = DTLSCertificate.digest(of: peer, remoteFingerprint.algorithm) else {
            return failure(.handshakeFailed(.drain("X509_digest")))
        }
        guard actual.matches(remoteFingerprint) else {
            // Tell the peer we are gone rather than let it wait for media.
            _ = SSL_shutdown(ssl)
            OpenSSLError.clearQueue()
            return failure(.fingerprintMismatch(expected: remoteFingerprint, actual: actual))
        }
        guard let selected = SSL_get_selected_srtp_profile(ssl),
              let profile = SRTPProfile(rawValue: UInt16(truncatingIfNeeded: selected.pointee.id)),
              configuration.srtpProfiles.contains(profile) else {
            _ = SSL_shutdown(ssl)
            OpenSSLError.clearQueue()
            return failure(.noSRTPProfile)
        }
        var exported = [UInt8](repeating: 0, count: 2 * (profile.masterKeyLength + profile.masterSaltLength))
        let label = Self.exporterLabel
        let ok = label.withCString { cLabel in
            SSL_export_keying_material(ssl, &exported, exported.count, cLabel, label.utf8.count, nil, 0, 0)
        }
        guard ok == 1, let material = SRTPKeyingMaterial(profile: profile, exported: exported, isClient: role == .client) else {
            return failure(.keyExportFailed(.drain("SSL_export_keying_material")))
        }
        state = .connected
        keyingMaterial = material
        return .connected(material)
    }

    /// Reads every record after the handshake; the event when the peer closed or the connection failed.
    private func readRecords() -> DTLSEvent? {
        var scratch = [UInt8](repeating: 0, count: 2048)
        // Bounded: each pass consumes at least one record of the single datagram in the read BIO.
        for _ in 0..<64 {
            OpenSSLError.clearQueue()
            let result = SSL_read(ssl, &scratch, Int32(scratch.count))
            if result > 0 { continue }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return nil
            case SSL_ERROR_ZERO_RETURN:
                // close_notify: answer it and stop.
                _ = SSL_shutdown(ssl)
                OpenSSLError.clearQueue()
                state = .closed
                return .closed
            default:
                return failure(.connectionFailed(.drain("SSL_read")))
            }
        }
        return nil
    }

    private func failure(_ error: DTLSError) -> DTLSEvent {
        state = .failed
        return .failed(error)
    }

    private func fail(_ error: DTLSError, now: Int64) -> DTLSOutput {
        output(now: now, event: failure(error))
    }

    /// Collects what OpenSSL wrote and the timer it runs, read again from OpenSSL after each call that
    /// drove it (OpenSSL restarts its timer when it sends a flight).
    private func output(now: Int64, event: DTLSEvent? = nil) -> DTLSOutput {
        let datagrams = drainDatagrams()
        if state == .handshaking || state == .connected {
            let remaining = rtcbox_DTLSv1_get_timeout_us(ssl)
            deadline = remaining >= 0 ? now + remaining : nil
        } else {
            deadline = nil
        }
        return DTLSOutput(datagrams: datagrams, timeout: deadline, event: event)
    }

    /// The answer to a call that did not drive OpenSSL: the timer stands as it was set.
    private func unchanged() -> DTLSOutput {
        DTLSOutput(datagrams: drainDatagrams(), timeout: deadline)
    }

    /// The write BIO's records, packed into datagrams of at most the MTU.
    private func drainDatagrams() -> [ByteBuffer] {
        let pending = BIO_ctrl_pending(writeBIO)
        guard pending > 0, pending <= Int32.max else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(pending))
        let read = BIO_read(writeBIO, &bytes, Int32(pending))
        guard read > 0 else { return [] }
        return DTLSRecordPacker.datagrams(records: bytes[..<Int(read)], mtu: configuration.mtu).map { chunk in
            var buffer = allocator.buffer(capacity: chunk.count)
            buffer.writeBytes(chunk)
            return buffer
        }
    }

    fileprivate var retransmitTimeouts: (initial: UInt32, maximum: UInt32) {
        (UInt32(configuration.initialRetransmitTimeout), UInt32(configuration.maximumRetransmitTimeout))
    }

    private static func makeContext(certificate: DTLSCertificate, profiles: [SRTPProfile]) throws(DTLSError) -> OpaquePointer {
        guard let context = SSL_CTX_new(DTLS_method()) else { throw .setupFailed(.drain("SSL_CTX_new")) }
        func check(_ ok: Bool, _ operation: String) throws(DTLSError) {
            guard ok else {
                let error = OpenSSLError.drain(operation)
                SSL_CTX_free(context)
                throw .setupFailed(error)
            }
        }
        try check(rtcbox_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1, "SSL_CTX_set_min_proto_version")
        try check(rtcbox_SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1, "SSL_CTX_set_max_proto_version")
        _ = SSL_CTX_set_options(context, rtcbox_dtls_srtp_options())
        try check(SSL_CTX_set_cipher_list(context, cipherList) == 1, "SSL_CTX_set_cipher_list")
        try check(rtcbox_SSL_CTX_set1_groups_list(context, groupsList) == 1, "SSL_CTX_set1_groups_list")
        // Careful: SSL_CTX_set_tlsext_use_srtp returns 0 on success.
        let profileList = profiles.map(\.openSSLName).joined(separator: ":")
        try check(SSL_CTX_set_tlsext_use_srtp(context, profileList) == 0, "SSL_CTX_set_tlsext_use_srtp")
        try check(SSL_CTX_use_certificate(context, certificate.certificate) == 1, "SSL_CTX_use_certificate")
        try check(SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1, "SSL_CTX_use_PrivateKey")
        try check(SSL_CTX_check_private_key(context) == 1, "SSL_CTX_check_private_key")
        // The peer must send a certificate; any chain is accepted (self-signed is WebRTC's norm), since
        // the fingerprint check after the handshake is what authenticates it.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAnyCertificate)
        return context
    }
}

/// A DTLSEndpoint is bound to one event loop (OpenSSL's SSL objects are not thread-safe).
@available(*, unavailable)
extension DTLSEndpoint: Sendable {}

/// What one call on a `DTLSEndpoint` asks the caller to do.
public struct DTLSOutput: Sendable {
    /// Datagrams to send to the peer, in order (each at most the MTU).
    public var datagrams: [ByteBuffer]
    /// When to call `handleTimeout(now:)` (the caller's clock, microseconds); nil cancels the timer.
    public var timeout: Int64?
    /// What happened, if anything.
    public var event: DTLSEvent?

    public init(datagrams: [ByteBuffer] = [], timeout: Int64? = nil, event: DTLSEvent? = nil) {
        self.datagrams = datagrams
        self.timeout = timeout
        self.event = event
    }
}

/// A change of a DTLS association's state.
public enum DTLSEvent: Sendable, Hashable {
    /// The handshake completed with the signalled peer: start SRTP with these keys.
    case connected(SRTPKeyingMaterial)
    /// The peer sent close_notify (answered).
    case closed
    /// The handshake or the connection failed; the association is dead (any datagrams in the same
    /// output carry the alert to the peer).
    case failed(DTLSError)
}

/// OpenSSL's verify callback: every chain is acceptable (see `DTLSEndpoint.makeContext`).
private func acceptAnyCertificate(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
    1
}

/// OpenSSL's DTLS timer callback: the next retransmission timeout in microseconds given the last one
/// (0 when a flight starts), doubling up to the configured maximum (RFC 6347 section 4.2.4.1).
private func dtlsTimerDuration(_ ssl: OpaquePointer?, _ previous: UInt32) -> UInt32 {
    var initial: UInt32 = 1_000_000, maximum: UInt32 = 60_000_000
    if let ssl, let owner = SSL_get_ex_data(ssl, 0) {
        (initial, maximum) = Unmanaged<DTLSEndpoint>.fromOpaque(owner).takeUnretainedValue().retransmitTimeouts
    }
    guard previous > 0 else { return initial }
    return previous >= maximum / 2 ? maximum : previous * 2
}
