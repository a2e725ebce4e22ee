import Foundation

/// The login and publish rules of a token, checked against what a session asks for.
public struct TokenVerifier: Sendable {
    public let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    /// Opens the token and checks it is for this app and user, not expired, and allows logging into `roomID`.
    public func verifyLogin(_ token: String, appID: UInt32, userID: String, roomID: String, now: Date = Date()) throws -> Token04.Contents {
        let contents = try Token04.open(token, secret: secret)
        guard contents.appID == appID else { throw TokenError.mismatch("was made for app \(contents.appID), not \(appID)") }
        guard contents.userID == userID else { throw TokenError.mismatch("was made for user \"\(contents.userID)\", not \"\(userID)\"") }
        let nowSeconds = Int64(now.timeIntervalSince1970)
        guard contents.expiresAt > nowSeconds else { throw TokenError.expired(secondsAgo: nowSeconds - contents.expiresAt) }
        if let room = contents.payload.roomID, room != roomID {
            throw TokenError.noPrivilege("allows room \"\(room)\" only, not \"\(roomID)\"")
        }
        guard contents.payload.canLogin else { throw TokenError.noPrivilege("denies the login privilege") }
        return contents
    }

    /// Whether a token (already verified for login) allows publishing `streamID`.
    public static func checkPublish(_ payload: TokenPayload, streamID: String) throws {
        guard payload.canPublish else { throw TokenError.noPrivilege("denies the publish privilege") }
        if let list = payload.streamIDs, !list.contains(streamID) {
            throw TokenError.noPrivilege("does not list stream id \"\(streamID)\" (it allows \(list.isEmpty ? "none" : list.joined(separator: ", ")))")
        }
    }
}
