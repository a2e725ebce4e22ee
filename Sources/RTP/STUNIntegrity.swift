import Crypto

/// The two checksums STUN carries: MESSAGE-INTEGRITY, an HMAC-SHA1 keyed by the credential
/// (RFC 8489 section 14.5; ICE uses short-term credentials, where the key is the password), and
/// FINGERPRINT, CRC-32 (ISO 3309 / ITU-T V.42, as in zlib) XOR 0x5354554E (section 14.7).
public enum STUNIntegrity {
    /// XORed into the CRC so that FINGERPRINT differs from a CRC some other protocol carries.
    public static let fingerprintXOR: UInt32 = 0x5354_554E

    public static func hmacSHA1(key: [UInt8], _ bytes: some Sequence<UInt8>) -> [UInt8] {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(bytes), using: SymmetricKey(data: key))
        return Array(mac)
    }

    /// Constant-time comparison (swift-crypto's `isValidAuthenticationCode`).
    public static func isValidHMACSHA1(_ mac: [UInt8], key: [UInt8], _ bytes: some Sequence<UInt8>) -> Bool {
        guard mac.count == Insecure.SHA1.byteCount else { return false }
        return HMAC<Insecure.SHA1>.isValidAuthenticationCode(
            mac, authenticating: Array(bytes), using: SymmetricKey(data: key))
    }

    /// The long-term credential key (RFC 8489 section 9.2.2, MD5 variant):
    /// MD5(username ":" realm ":" password), the strings already SASLprep'd/OpaqueString'd.
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8)))
    }

    /// The FINGERPRINT value of the bytes before it.
    public static func fingerprint(_ bytes: some Sequence<UInt8>) -> UInt32 {
        crc32(bytes) ^ fingerprintXOR
    }

    /// CRC-32 with the reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
    public static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 {
            c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1
        }
        return c
    }
}
