import CDTLS

/// The local identity of DTLS-SRTP: a self-signed certificate over an ECDSA P-256 key, whose
/// fingerprint goes into the local SDP (`a=fingerprint`, RFC 8122 section 5) and is all the peer checks
/// (RFC 5763 section 5: no CA, no name, no validity check on either side).
///
/// Made once per process (a server) or per call (a client); `pem` / `init(pem:)` let a server keep its
/// certificate across restarts so that cached fingerprints stay valid.
///
/// `@unchecked Sendable`: the EVP_PKEY and X509 are created in `init`, never mutated after it, and
/// freed in `deinit`; OpenSSL's read-only use of them (signing in handshakes, `SSL_CTX_use_certificate`
/// taking a reference with an atomic count) is thread-safe, so one certificate serves every event loop.
public final class DTLSCertificate: @unchecked Sendable {
    /// EVP_PKEY *
    let privateKey: OpaquePointer
    /// X509 *
    let certificate: OpaquePointer
    /// The SHA-256 fingerprint, the one browsers signal and expect.
    public let fingerprint: DTLSFingerprint

    /// Generates a fresh key and certificate: ECDSA P-256, a random 63-bit serial, subject and issuer
    /// CN=rtcbox, valid from a day ago (clock skew) to 30 days from now, signed with SHA-256.
    public convenience init() throws(DTLSCertificateError) {
        OpenSSLError.clearQueue()
        let key = try Self.generateKey()
        let x509: OpaquePointer
        do {
            x509 = try Self.makeCertificate(key: key)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        do {
            try self.init(privateKey: key, certificate: x509)
        } catch {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw error
        }
    }

    /// Loads a key and certificate written by `pem` (a PKCS#8 `PRIVATE KEY` block and a `CERTIFICATE`
    /// block, in any order). Encrypted keys are refused (no passphrase prompt).
    public convenience init(pem: String) throws(DTLSCertificateError) {
        OpenSSLError.clearQueue()
        let bytes = Array(pem.utf8)
        guard let key = Self.readPEM(bytes, { bio in PEM_read_bio_PrivateKey(bio, nil, noPassphrase, nil) }) else {
            throw .invalidPEM(.drain("PEM_read_bio_PrivateKey"))
        }
        guard let x509 = Self.readPEM(bytes, { bio in PEM_read_bio_X509(bio, nil, noPassphrase, nil) }) else {
            EVP_PKEY_free(key)
            throw .invalidPEM(.drain("PEM_read_bio_X509"))
        }
        do {
            try self.init(privateKey: key, certificate: x509)
        } catch {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw error
        }
    }

    /// Takes ownership of `privateKey` and `certificate` once they are checked.
    private init(privateKey: OpaquePointer, certificate: OpaquePointer) throws(DTLSCertificateError) {
        guard EVP_PKEY_get_base_id(privateKey) == EVP_PKEY_EC else { throw .notECKey }
        guard X509_check_private_key(certificate, privateKey) == 1 else {
            throw .keyMismatch(.drain("X509_check_private_key"))
        }
        guard let fingerprint = Self.digest(of: certificate, .sha256) else {
            throw .generationFailed(.drain("X509_digest"))
        }
        self.privateKey = privateKey
        self.certificate = certificate
        self.fingerprint = fingerprint
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(privateKey)
    }

    /// The private key (PKCS#8, unencrypted) then the certificate, PEM-encoded. Keep it secret.
    public var pem: String {
        get throws(DTLSCertificateError) {
            OpenSSLError.clearQueue()
            guard let bio = BIO_new(BIO_s_mem()) else { throw .generationFailed(.drain("BIO_new")) }
            defer { BIO_free(bio) }
            guard PEM_write_bio_PrivateKey(bio, privateKey, nil, nil, 0, nil, nil) == 1 else {
                throw .generationFailed(.drain("PEM_write_bio_PrivateKey"))
            }
            guard PEM_write_bio_X509(bio, certificate) == 1 else {
                throw .generationFailed(.drain("PEM_write_bio_X509"))
            }
            var data: UnsafeMutablePointer<CChar>? = nil
            let count = rtcbox_BIO_get_mem_data(bio, &data)
            guard count > 0, let data else { throw .generationFailed(.drain("BIO_get_mem_data")) }
            return String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        }
    }

    /// The certificate's fingerprint with another hash function (RFC 8122 allows several).
    public func fingerprint(_ algorithm: DTLSFingerprint.Algorithm) -> DTLSFingerprint? {
        Self.digest(of: certificate, algorithm)
    }

    /// The digest of an X509's DER encoding with `algorithm`, nil if OpenSSL fails.
    static func digest(of x509: OpaquePointer, _ algorithm: DTLSFingerprint.Algorithm) -> DTLSFingerprint? {
        let md: OpaquePointer? = switch algorithm {
        case .sha1: EVP_sha1()
        case .sha224: EVP_sha224()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
        var buffer = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let md, X509_digest(x509, md, &buffer, &length) == 1, Int(length) == algorithm.digestLength else {
            return nil
        }
        return DTLSFingerprint(algorithm: algorithm, digest: Array(buffer.prefix(Int(length))))
    }

    private static func generateKey() throws(DTLSCertificateError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw .generationFailed(.drain("EVP_PKEY_CTX_new_from_name"))
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw .generationFailed(.drain("EVP_PKEY_keygen_init")) }
        guard EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else {
            throw .generationFailed(.drain("EVP_PKEY_CTX_set_group_name"))
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw .generationFailed(.drain("EVP_PKEY_keygen"))
        }
        return key
    }

    private static func makeCertificate(key: OpaquePointer) throws(DTLSCertificateError) -> OpaquePointer {
        guard let x509 = X509_new() else { throw .generationFailed(.drain("X509_new")) }
        var ok = X509_set_version(x509, Int(X509_VERSION_3)) == 1
        // A positive, non-zero serial of 63 random bits (RFC 5280 section 4.1.2.2).
        var random = [UInt8](repeating: 0, count: 8)
        ok = ok && RAND_bytes(&random, Int32(random.count)) == 1
        let serial = random.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & 0x7fff_ffff_ffff_ffff | 1
        ok = ok && ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(x509), 30 * 86_400) != nil
        let name = X509_get_subject_name(x509)
        let cn = Array("rtcbox".utf8)
        ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, Int32(cn.count), -1, 0) == 1
        ok = ok && X509_set_issuer_name(x509, name) == 1
        ok = ok && X509_set_pubkey(x509, key) == 1
        ok = ok && X509_sign(x509, key, EVP_sha256()) > 0
        guard ok else {
            X509_free(x509)
            throw .generationFailed(.drain("building the X509 certificate"))
        }
        return x509
    }

    /// Runs `read` over a fresh read-only memory BIO on `bytes` (PEM_read_bio_* skip blocks of other types).
    private static func readPEM(_ bytes: [UInt8], _ read: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard raw.count < 1 << 20, let base = raw.baseAddress, let bio = BIO_new_mem_buf(base, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
    }
}

/// A passphrase callback that supplies none, so that OpenSSL never prompts on a terminal for an
/// encrypted key (its default callback would).
private func noPassphrase(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ rwflag: Int32,
                          _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    0
}
