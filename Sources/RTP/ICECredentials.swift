/// An ICE username fragment and password (RFC 8445 section 5.3, RFC 8839 section 5.4): what
/// a=ice-ufrag / a=ice-pwd carry and what keys the connectivity checks. Both are ice-chars
/// (ALPHA / DIGIT / "+" / "/"); the ufrag has 4-256 of them, the password 22-256.
public struct ICECredentials: Hashable, Sendable {
    public var ufrag: String
    public var password: String

    public static let iceChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    public static let ufragLengths = 4...256
    public static let passwordLengths = 22...256

    /// Credentials as given; nil unless both are valid (length and ice-char set).
    public init?(ufrag: String, password: String) {
        guard Self.isValid(ufrag, lengths: Self.ufragLengths), Self.isValid(password, lengths: Self.passwordLengths) else {
            return nil
        }
        self.ufrag = ufrag
        self.password = password
    }

    private init(unchecked ufrag: String, password: String) {
        self.ufrag = ufrag
        self.password = password
    }

    /// Fresh random credentials: an 8-character ufrag (48 bits, enough to find a session by it)
    /// and a 24-character password (144 bits; RFC 8445 asks for at least 128).
    public static func random(ufragLength: Int = 8, passwordLength: Int = 24) -> ICECredentials {
        var rng = SystemRandomNumberGenerator()
        return random(ufragLength: ufragLength, passwordLength: passwordLength, using: &rng)
    }

    public static func random(
        ufragLength: Int = 8, passwordLength: Int = 24, using rng: inout some RandomNumberGenerator
    ) -> ICECredentials {
        let u = min(max(ufragLength, ufragLengths.lowerBound), ufragLengths.upperBound)
        let p = min(max(passwordLength, passwordLengths.lowerBound), passwordLengths.upperBound)
        func draw(_ n: Int) -> String {
            String((0..<n).map { _ in iceChars[Int(rng.next(upperBound: UInt64(iceChars.count)))] })
        }
        return ICECredentials(unchecked: draw(u), password: draw(p))
    }

    /// Whether `text` is ice-chars only and its length is in `lengths`.
    public static func isValid(_ text: String, lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(text.utf8.count)
            && text.utf8.allSatisfy { c in
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2F
            }
    }
}
