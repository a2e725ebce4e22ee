/// A certificate fingerprint as SDP's `a=fingerprint` carries it (RFC 8122 section 5): a hash function
/// and the digest of the DER certificate, written `sha-256 AB:CD:...` (upper-case hex pairs joined by
/// colons). DTLS-SRTP authenticates the peer by this value alone (RFC 5763 section 5).
public struct DTLSFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The hash functions of RFC 8122 section 5 (the "Hash Function Textual Names" registry, less md2
    /// and md5, which RFC 8122 forbids).
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha1 = "sha-1"
        case sha224 = "sha-224"
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        /// The digest length in octets.
        public var digestLength: Int {
            switch self {
            case .sha1: 20
            case .sha224: 28
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }
    }

    public var algorithm: Algorithm
    public var digest: [UInt8]

    public init(algorithm: Algorithm, digest: [UInt8]) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Parses the value of an `a=fingerprint:` attribute (what follows the colon): a hash function name
    /// (case-insensitive, RFC 8122 section 5), one or more spaces, then hex pairs joined by colons
    /// (lower-case hex is accepted too). The digest length must match the hash function.
    public init(sdpValue: some StringProtocol) throws(DTLSFingerprintParseError) {
        let bytes = Array(sdpValue.utf8)
        guard bytes.count <= 256 else { throw .tooLong(bytes.count) }
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space > 0 else { throw .missingHashFunction }
        let name = String(decoding: bytes[..<space], as: UTF8.self).lowercased()
        guard let algorithm = Algorithm(rawValue: name) else { throw .unknownHashFunction(name) }
        var index = space
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        var digest: [UInt8] = []
        while true {
            guard index + 1 < bytes.count, let high = Self.hexValue(bytes[index]),
                  let low = Self.hexValue(bytes[index + 1]) else { throw .malformedHex(offset: index) }
            digest.append(high << 4 | low)
            index += 2
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: ":") else { throw .malformedHex(offset: index) }
            index += 1
        }
        guard digest.count == algorithm.digestLength else {
            throw .wrongLength(algorithm: algorithm, expected: algorithm.digestLength, have: digest.count)
        }
        self.init(algorithm: algorithm, digest: digest)
    }

    /// The attribute value, `sha-256 AB:CD:...` (RFC 8122 section 5: upper-case hex).
    public var sdpValue: String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var text = Array(algorithm.rawValue.utf8)
        text.append(UInt8(ascii: " "))
        for (i, byte) in digest.enumerated() {
            if i > 0 { text.append(UInt8(ascii: ":")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { sdpValue }

    /// Whether `other` is the same fingerprint, comparing every digest octet whatever the first
    /// difference (constant time in the digest's contents).
    public func matches(_ other: DTLSFingerprint) -> Bool {
        guard algorithm == other.algorithm, digest.count == other.digest.count else { return false }
        var difference: UInt8 = 0
        for i in digest.indices {
            difference |= digest[i] ^ other.digest[i]
        }
        return difference == 0
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Why an `a=fingerprint` value was refused.
public enum DTLSFingerprintParseError: Error, Sendable, Hashable {
    /// No `hash-func SP` before the digest.
    case missingHashFunction
    /// A hash function RFC 8122 does not allow (md2, md5) or that does not exist.
    case unknownHashFunction(String)
    /// Not a hex pair, or a separator other than ':' , at this UTF-8 offset.
    case malformedHex(offset: Int)
    /// The digest's length does not match the hash function.
    case wrongLength(algorithm: DTLSFingerprint.Algorithm, expected: Int, have: Int)
    /// Longer than any valid value (sha-512's is 200 characters).
    case tooLong(Int)
}
