/// Rules for room, user and stream ids: unique within an app, bounded in length, a safe charset.
public enum IdentifierKind: String, Sendable {
    case room, user, stream

    /// Maximum length in bytes (UTF-8).
    public var maximumLength: Int {
        switch self {
        case .user: return 64
        case .room: return 128
        case .stream: return 256
        }
    }
}

public enum Identifier {
    /// Returns nil when `id` is valid, else a one-line reason naming the problem.
    public static func problem(with id: String, kind: IdentifierKind) -> String? {
        let bytes = id.utf8
        if bytes.isEmpty { return "\(kind.rawValue) id is empty" }
        if bytes.count > kind.maximumLength {
            return "\(kind.rawValue) id is \(bytes.count) bytes long, the limit is \(kind.maximumLength)"
        }
        for byte in bytes where !isAllowed(byte) {
            return "\(kind.rawValue) id \"\(id)\" has a character outside A-Z a-z 0-9 - _ ."
        }
        return nil
    }

    static func isAllowed(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
