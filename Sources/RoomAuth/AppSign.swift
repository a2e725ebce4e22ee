import Crypto
import Foundation

/// An app's AppSign: 32 secret bytes written as 64 hex characters. It never travels: a client proves it
/// knows it by an HMAC-SHA256 over the server's hello nonce and what it logs into.
public struct AppSign: Sendable, Equatable {
    public let bytes: [UInt8]

    public init(hex: String) throws {
        guard hex.utf8.count == 64 else {
            throw TokenError.invalidSecret("an app sign is 64 hex characters, not \(hex.utf8.count)")
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var high: UInt8?
        for c in hex.utf8 {
            guard let v = Self.hexValue(c) else { throw TokenError.invalidSecret("an app sign is hex; it has \"\(Character(Unicode.Scalar(c)))\"") }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        bytes = out
    }

    /// The login signature: hex HMAC-SHA256, keyed by the AppSign, of
    /// `"rtcbox-login-v1\n" + nonce + "\n" + app id + "\n" + user id + "\n" + room id`.
    public func signature(nonce: String, appID: UInt32, userID: String, roomID: String) -> String {
        let message = "rtcbox-login-v1\n\(nonce)\n\(appID)\n\(userID)\n\(roomID)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: bytes))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares a received signature with the expected one in constant time.
    public func verify(_ signature: String, nonce: String, appID: UInt32, userID: String, roomID: String) -> Bool {
        let expected = Array(self.signature(nonce: nonce, appID: appID, userID: userID, roomID: roomID).utf8)
        let given = Array(signature.lowercased().utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<expected.count { difference |= expected[i] ^ given[i] }
        return difference == 0
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
