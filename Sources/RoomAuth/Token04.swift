import Crypto
import Foundation

/// The token04 format of the commercial SDK's server assistant (AES-256-GCM variant), so tokens made by its
/// own generators log in to rtcbox and rtcbox's tokens log in there:
///
///     "04" + base64( i64 BE expire | u16 BE nonce length (12) | nonce (12 ASCII bytes)
///                    | u16 BE ciphertext length | AES-256-GCM ciphertext + 16-byte tag | u8 mode (1 = GCM) )
///
/// The key is the 32 ASCII bytes of the app's server secret; the GCM nonce is the 12 nonce bytes. The
/// plaintext is compact JSON `{"app_id":N,"user_id":"..","nonce":N,"ctime":S,"expire":S,"payload":".."}`.
public enum Token04 {
    public static let version = "04"
    static let nonceLength = 12
    static let tagLength = 16
    static let gcmMode: UInt8 = 1

    /// What a token says once opened with the right secret.
    public struct Contents: Sendable, Equatable {
        public var appID: UInt32
        public var userID: String
        /// The random number in the plaintext (not the GCM nonce).
        public var nonce: Int64
        public var createdAt: Int64
        public var expiresAt: Int64
        /// The raw payload string ("" for a basic token).
        public var payloadText: String
        /// The payload parsed ("" gives the basic payload: any room, every privilege, any stream).
        public var payload: TokenPayload

        public init(appID: UInt32, userID: String, nonce: Int64, createdAt: Int64, expiresAt: Int64, payload: TokenPayload) {
            self.appID = appID
            self.userID = userID
            self.nonce = nonce
            self.createdAt = createdAt
            self.expiresAt = expiresAt
            self.payload = payload
            self.payloadText = payload.jsonText
        }
    }

    /// Makes a token valid for `seconds` from `now`.
    public static func generate(appID: UInt32, userID: String, secret: String, seconds: Int64,
                                payload: TokenPayload = .basic, now: Date = Date()) throws -> String {
        let key = try symmetricKey(secret)
        guard seconds > 0 else { throw TokenError.invalidArgument("the token lifetime must be positive, not \(seconds) s") }
        guard !userID.isEmpty else { throw TokenError.invalidArgument("the user id is empty") }
        let created = Int64(now.timeIntervalSince1970)
        let (expire, overflow) = created.addingReportingOverflow(seconds)
        guard !overflow else { throw TokenError.invalidArgument("the token lifetime \(seconds) s is too large") }
        let plain = PlainText(appID: appID, userID: userID, nonce: Int64(Int32.random(in: 0...Int32.max)),
                              ctime: created, expire: expire, payload: payload.jsonText)
        let plaintext = try plain.json()
        let nonceBytes = randomNonceBytes()
        let sealed = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonceBytes))
        let cipher = Array(sealed.ciphertext) + Array(sealed.tag)
        guard cipher.count <= Int(UInt16.max) else { throw TokenError.invalidArgument("the payload is too large for a token") }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + 2 + nonceLength + 2 + cipher.count + 1)
        appendBigEndian(UInt64(bitPattern: expire), to: &bytes)
        appendBigEndian(UInt16(nonceLength), to: &bytes)
        bytes += nonceBytes
        appendBigEndian(UInt16(cipher.count), to: &bytes)
        bytes += cipher
        bytes.append(gcmMode)
        return version + Data(bytes).base64EncodedString()
    }

    /// Opens a token with an app's server secret. Checks the format and the GCM tag; does not check the
    /// app, user, room or expiry (see `TokenVerifier`).
    public static func open(_ token: String, secret: String) throws -> Contents {
        let key = try symmetricKey(secret)
        guard token.hasPrefix(version) else {
            throw TokenError.malformed("it does not start with \"04\"")
        }
        guard let data = Data(base64Encoded: String(token.dropFirst(2))) else {
            throw TokenError.malformed("it is not base64 after \"04\"")
        }
        var reader = ByteReader(Array(data))
        guard let expireBits = reader.readUInt64(), let nonceLen = reader.readUInt16() else {
            throw TokenError.malformed("it is too short")
        }
        guard Int(nonceLen) == nonceLength else {
            throw TokenError.malformed("its nonce is \(nonceLen) bytes, not \(nonceLength)")
        }
        guard let nonce = reader.read(Int(nonceLen)), let cipherLen = reader.readUInt16(),
              let cipher = reader.read(Int(cipherLen)), let mode = reader.read(1)?.first else {
            throw TokenError.malformed("it is truncated")
        }
        guard reader.isAtEnd else { throw TokenError.malformed("it has \(reader.remaining) bytes after its end") }
        guard mode == gcmMode else { throw TokenError.malformed("its encryption mode is \(mode), only 1 (AES-GCM) is supported") }
        guard cipher.count >= tagLength else { throw TokenError.malformed("its ciphertext is shorter than a GCM tag") }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce),
                                            ciphertext: cipher.dropLast(tagLength), tag: cipher.suffix(tagLength))
            plaintext = try AES.GCM.open(box, using: key)
        } catch {
            throw TokenError.wrongSecret
        }
        let plain: PlainText
        do {
            plain = try JSONDecoder().decode(PlainText.self, from: plaintext)
        } catch {
            throw TokenError.malformed("its content is not the expected JSON")
        }
        let expire = Int64(bitPattern: expireBits)
        guard expire == plain.expire else { throw TokenError.malformed("its outer and inner expiry differ") }
        let payload = try TokenPayload(jsonText: plain.payload)
        var contents = Contents(appID: plain.appID, userID: plain.userID, nonce: plain.nonce, createdAt: plain.ctime,
                                expiresAt: plain.expire, payload: payload)
        contents.payloadText = plain.payload
        return contents
    }

    static func symmetricKey(_ secret: String) throws -> SymmetricKey {
        let bytes = Array(secret.utf8)
        guard bytes.count == 32 else {
            throw TokenError.invalidSecret("the server secret must be 32 characters, not \(bytes.count)")
        }
        return SymmetricKey(data: bytes)
    }

    static func randomNonceBytes() -> [UInt8] {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceLength).map { _ in alphabet.randomElement(using: &generator) ?? UInt8(ascii: "0") }
    }

    struct PlainText: Codable {
        var appID: UInt32
        var userID: String
        var nonce: Int64
        var ctime: Int64
        var expire: Int64
        var payload: String

        enum CodingKeys: String, CodingKey {
            case nonce, ctime, expire, payload
            case appID = "app_id"
            case userID = "user_id"
        }

        /// Compact JSON with the keys in the documented order.
        func json() throws -> Data {
            func quoted(_ s: String) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes]), as: UTF8.self)
                    .dropFirst().dropLast().description
            }
            let text = "{\"app_id\":\(appID),\"user_id\":\(try quoted(userID)),\"nonce\":\(nonce),\"ctime\":\(ctime),\"expire\":\(expire),\"payload\":\(try quoted(payload))}"
            return Data(text.utf8)
        }
    }
}

func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
}

/// Reads big-endian fields from untrusted bytes; every read checks the remaining length first.
struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - index }
    var isAtEnd: Bool { remaining == 0 }

    mutating func read(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    mutating func readUInt16() -> UInt16? {
        read(2).map { UInt16($0[0]) << 8 | UInt16($0[1]) }
    }

    mutating func readUInt64() -> UInt64? {
        read(8).map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
}
