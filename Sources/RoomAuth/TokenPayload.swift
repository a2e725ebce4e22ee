import Foundation

/// What a token allows, from its payload: `""` (a basic token: any room, every privilege, any stream id) or
/// `{"room_id":"r1","privilege":{"1":1,"2":0},"stream_id_list":["a","b"]}`.
///
/// Privilege "1" is login and "2" is publish; 1 allows, 0 denies, and a privilege the payload does not
/// name is allowed. An empty or absent room id allows any room; a null or absent stream list any stream id.
public struct TokenPayload: Sendable, Equatable {
    public var roomID: String?
    public var canLogin: Bool
    public var canPublish: Bool
    public var streamIDs: [String]?
    /// Whether the payload text was empty (a basic token).
    public var isBasic: Bool

    public static let basic = TokenPayload(roomID: nil, canLogin: true, canPublish: true, streamIDs: nil, isBasic: true)

    public init(roomID: String?, canLogin: Bool = true, canPublish: Bool = true, streamIDs: [String]? = nil) {
        self.init(roomID: roomID, canLogin: canLogin, canPublish: canPublish, streamIDs: streamIDs, isBasic: false)
    }

    private init(roomID: String?, canLogin: Bool, canPublish: Bool, streamIDs: [String]?, isBasic: Bool) {
        self.roomID = roomID
        self.canLogin = canLogin
        self.canPublish = canPublish
        self.streamIDs = streamIDs
        self.isBasic = isBasic
    }

    public init(jsonText: String) throws {
        if jsonText.isEmpty {
            self = .basic
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonText.utf8)) as? [String: Any] else {
            throw TokenError.malformed("its payload is not a JSON object")
        }
        var payload = TokenPayload(roomID: nil)
        if let room = object["room_id"], !(room is NSNull) {
            guard let room = room as? String else { throw TokenError.malformed("its payload room_id is not a string") }
            payload.roomID = room.isEmpty ? nil : room
        }
        if let privilege = object["privilege"], !(privilege is NSNull) {
            guard let map = privilege as? [String: Any] else { throw TokenError.malformed("its payload privilege is not an object") }
            func flag(_ key: String) throws -> Bool {
                guard let value = map[key] else { return true }
                guard let number = value as? NSNumber, number.intValue == 0 || number.intValue == 1 else {
                    throw TokenError.malformed("its payload privilege \"\(key)\" is not 0 or 1")
                }
                return number.intValue == 1
            }
            payload.canLogin = try flag("1")
            payload.canPublish = try flag("2")
        }
        if let list = object["stream_id_list"], !(list is NSNull) {
            guard let ids = list as? [String] else { throw TokenError.malformed("its payload stream_id_list is not a list of strings") }
            payload.streamIDs = ids
        }
        self = payload
    }

    /// The payload string a token carries.
    public var jsonText: String {
        if isBasic { return "" }
        var parts = ["\"room_id\":\(Self.quote(roomID ?? ""))",
                     "\"privilege\":{\"1\":\(canLogin ? 1 : 0),\"2\":\(canPublish ? 1 : 0)}"]
        if let streamIDs {
            parts.append("\"stream_id_list\":[" + streamIDs.map(Self.quote).joined(separator: ",") + "]")
        } else {
            parts.append("\"stream_id_list\":null")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func quote(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
