/// An SRTP protection profile negotiated by DTLS's use_srtp extension (RFC 5764 section 4.1.2), with the
/// master key and salt lengths the keying-material export needs (RFC 5764 section 4.2).
///
/// Two are supported, the ones browsers offer: `AEAD_AES_128_GCM` (RFC 7714 section 14.2, preferred) and
/// `AES_CM_128_HMAC_SHA1_80` (RFC 3711, RFC 5764 section 9: mandatory to implement).
public enum SRTPProfile: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// AES-128 in counter mode with a 80-bit HMAC-SHA1 tag (RFC 3711 section 8, RFC 5764 section 4.1.2).
    case aes128CmHmacSha1_80 = 0x0001
    /// AES-128-GCM with a 16-octet tag (RFC 7714 section 14.2).
    case aeadAes128Gcm = 0x0007

    /// The profile's name as OpenSSL's `SSL_CTX_set_tlsext_use_srtp` spells it.
    public var openSSLName: String {
        switch self {
        case .aes128CmHmacSha1_80: "SRTP_AES128_CM_SHA1_80"
        case .aeadAes128Gcm: "SRTP_AEAD_AES_128_GCM"
        }
    }

    /// The profile's name in its RFC.
    public var description: String {
        switch self {
        case .aes128CmHmacSha1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aeadAes128Gcm: "AEAD_AES_128_GCM"
        }
    }

    /// The master key length in octets (both profiles: 128 bits).
    public var masterKeyLength: Int { 16 }

    /// The master salt length in octets: 112 bits for AES-CM (RFC 3711 section 8.2), 96 for GCM (RFC 7714
    /// section 12).
    public var masterSaltLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: 14
        case .aeadAes128Gcm: 12
        }
    }

    /// The octets protect adds to an RTP packet (the authentication tag; no MKI is used).
    public var rtpOverhead: Int {
        switch self {
        case .aes128CmHmacSha1_80: 10
        case .aeadAes128Gcm: 16
        }
    }

    /// The octets protect adds to an RTCP packet: the tag plus the 4-octet E flag and SRTCP index
    /// (RFC 3711 section 3.4).
    public var rtcpOverhead: Int { rtpOverhead + 4 }
}

/// The SRTP master keys and salts one side of a DTLS-SRTP association derived (RFC 5764 section 4.2),
/// already sorted into this side's sending ("local") and receiving ("remote") halves.
///
/// Its `description` names the profile only: keys never reach a log by accident.
public struct SRTPKeyingMaterial: Sendable, Hashable, CustomStringConvertible {
    public var profile: SRTPProfile
    /// The key and salt this side protects outgoing packets with.
    public var localMasterKey: [UInt8]
    public var localMasterSalt: [UInt8]
    /// The key and salt this side unprotects incoming packets with (the peer's local ones).
    public var remoteMasterKey: [UInt8]
    public var remoteMasterSalt: [UInt8]

    public init(profile: SRTPProfile, localMasterKey: [UInt8], localMasterSalt: [UInt8],
                remoteMasterKey: [UInt8], remoteMasterSalt: [UInt8]) {
        self.profile = profile
        self.localMasterKey = localMasterKey
        self.localMasterSalt = localMasterSalt
        self.remoteMasterKey = remoteMasterKey
        self.remoteMasterSalt = remoteMasterSalt
    }

    /// Splits the exporter output `client_key | server_key | client_salt | server_salt` (RFC 5764
    /// section 4.2) for `role`; nil when `exported` has not exactly the profile's length.
    init?(profile: SRTPProfile, exported: [UInt8], isClient: Bool) {
        let k = profile.masterKeyLength, s = profile.masterSaltLength
        guard exported.count == 2 * (k + s) else { return nil }
        let clientKey = Array(exported[0..<k])
        let serverKey = Array(exported[k..<2 * k])
        let clientSalt = Array(exported[2 * k..<2 * k + s])
        let serverSalt = Array(exported[2 * k + s..<2 * (k + s)])
        self.init(profile: profile,
                  localMasterKey: isClient ? clientKey : serverKey,
                  localMasterSalt: isClient ? clientSalt : serverSalt,
                  remoteMasterKey: isClient ? serverKey : clientKey,
                  remoteMasterSalt: isClient ? serverSalt : clientSalt)
    }

    public var description: String { "SRTPKeyingMaterial(\(profile), keys redacted)" }
}
