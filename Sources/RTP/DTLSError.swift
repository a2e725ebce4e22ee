/// Why a DTLS-SRTP association (RFC 5763, RFC 5764) could not be set up or ended in failure. Every
/// OpenSSL failure carries OpenSSL's own messages.
public enum DTLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint's configuration was refused (an MTU OpenSSL does not take, no SRTP profile).
    case invalidConfiguration(String)
    /// OpenSSL refused to set up the context or the connection.
    case setupFailed(OpenSSLError)
    /// The handshake failed: a malformed or unexpected record, an alert from the peer, no common cipher.
    case handshakeFailed(OpenSSLError)
    /// The peer did not answer after OpenSSL's retransmissions (RFC 6347 section 4.2.4).
    case handshakeTimedOut(OpenSSLError)
    /// The handshake completed without a peer certificate.
    case peerCertificateMissing
    /// The peer's certificate is not the one the remote SDP's `a=fingerprint` names (RFC 5763 section 5).
    case fingerprintMismatch(expected: DTLSFingerprint, actual: DTLSFingerprint)
    /// The peer negotiated no SRTP protection profile we offered (RFC 5764 section 4.1.2).
    case noSRTPProfile
    /// The exporter (RFC 5705) failed to produce the SRTP keys.
    case keyExportFailed(OpenSSLError)
    /// A fatal error or alert after the handshake.
    case connectionFailed(OpenSSLError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "invalid DTLS configuration: \(why)"
        case .setupFailed(let e): "DTLS setup: \(e)"
        case .handshakeFailed(let e): "DTLS handshake: \(e)"
        case .handshakeTimedOut(let e): "DTLS handshake timed out: \(e)"
        case .peerCertificateMissing: "DTLS peer presented no certificate"
        case .fingerprintMismatch(let expected, let actual):
            "DTLS peer certificate fingerprint \(actual) is not the signalled \(expected)"
        case .noSRTPProfile: "DTLS peer negotiated no SRTP protection profile we offered"
        case .keyExportFailed(let e): "DTLS-SRTP key export: \(e)"
        case .connectionFailed(let e): "DTLS connection: \(e)"
        }
    }
}

/// Why a `DTLSCertificate` could not be made or loaded.
public enum DTLSCertificateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Key generation, certificate assembly or signing failed in OpenSSL.
    case generationFailed(OpenSSLError)
    /// The PEM text holds no readable private key or certificate (an encrypted key is refused too).
    case invalidPEM(OpenSSLError)
    /// The key is not an EC key: DTLS here runs ECDHE-ECDSA suites only.
    case notECKey
    /// The private key does not belong to the certificate.
    case keyMismatch(OpenSSLError)

    public var description: String {
        switch self {
        case .generationFailed(let e): "DTLS certificate generation: \(e)"
        case .invalidPEM(let e): "DTLS certificate PEM: \(e)"
        case .notECKey: "DTLS certificate key is not an EC key (ECDSA suites only)"
        case .keyMismatch(let e): "DTLS certificate and private key do not match: \(e)"
        }
    }
}
